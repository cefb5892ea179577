"""``python -m memspice`` runs the CLI."""

import sys

from memspice.cli import main

sys.exit(main())
