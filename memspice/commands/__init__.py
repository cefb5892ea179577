"""Subcommands of the ``memspice`` CLI; each module adds its own with ``register(subparsers)``.

Stage 12 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate,
memspice.calibrate, memspice.energy, memspice.validate, memspice.learn and
memspice.sweep (and the foundation modules), nothing later.
"""
