"""memspice: train neural networks on memristive crossbars with the circuit in the loop.

Stages, in data-flow order (each imports only the ones before it):
``devices`` (compact models), ``circuit`` (crossbar netlists and the nodal
solver), ``spice`` (ngspice backends), ``surrogate`` (behavioural tiles),
``calibrate`` (fits), ``learn`` (training). See docs/design.md.
"""

__version__ = "0.1.0"
