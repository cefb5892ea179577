"""Subcommands of the ``memspice`` CLI; each module adds its own with ``register(subparsers)``."""
