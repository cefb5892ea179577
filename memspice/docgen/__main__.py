"""`python -m memspice.docgen`: write (or --check) the reference pages."""

import sys

from memspice.docgen import main

sys.exit(main())
