"""What a co-simulation checkpoint needs from a tile and its layer: explicit protocols, and states from conductances.

A checkpoint writes a sub-tile of conductance pairs into a crossbar, runs it
in SPICE, and compares with the tile's own answer. :class:`CosimTile` lists
everything it uses of the tile -- the behavioural
:class:`memspice.surrogate.AnalogTile` has it, and a SPICE-backed tile can
implement the same members later; :class:`CosimLayer` what it uses of the
layer that owns the tile.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from memspice.errors import ParameterError

__all__ = ["CosimLayer", "CosimTile", "copy_tile", "states_for_conductance"]


@runtime_checkable
class CosimTile(Protocol):
    """A crossbar tile of conductance pairs (G+, G-) as a checkpoint sees it.

    ``config.scheme``: the pair scheme (checkpoints need ``"push_pull"``);
    ``mapping``: weight <-> conductance (``g_min_s``, ``g_max_s``,
    ``g_scale_s``); ``draws``: each device's bounds (``lo_s``, ``hi_s``: one
    (n_out, n_in) array per pair member); ``dw_min``: the smallest weight step.
    ``apply_pulses(n)`` applies signed pulse counts (n_out, n_in) to the
    pairs, ``set_conductances`` overwrites them, ``state_dict`` and the
    class method ``from_state_dict(state, rng)`` make an independent copy.
    """

    config: Any
    mapping: Any
    draws: Any

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def g_plus(self) -> np.ndarray: ...

    @property
    def g_minus(self) -> np.ndarray: ...

    @property
    def dw_min(self) -> float: ...

    def apply_pulses(self, n: np.ndarray) -> None: ...

    def set_conductances(self, g_plus: np.ndarray, g_minus: np.ndarray) -> None: ...

    def state_dict(self) -> dict: ...


class CosimLayer(Protocol):
    """A layer whose tile is co-simulated: its tile, and the update operands of a mini-batch."""

    tile: CosimTile

    def update_operands(self, x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def copy_tile(tile: CosimTile, rng: np.random.Generator) -> CosimTile:
    """An independent copy of ``tile`` (its class's ``from_state_dict``), so a prediction leaves the tile as it was."""
    return type(tile).from_state_dict(tile.state_dict(), rng)


def states_for_conductance(model, g_s: np.ndarray) -> np.ndarray:
    """Device states whose chord conductance (at the model's read voltage) is ``g_s`` (S).

    Vectorised bisection over [x_min, x_max] (the conductance must be
    monotone in the state, as for every model with a one-dimensional
    surrogate); 64 halvings resolve the state to the last bit. A conductance
    outside the model's range is a ParameterError.
    """
    g = np.asarray(g_s, dtype=float)
    lo_x, hi_x = float(model.x_min), float(model.x_max)
    g_lo, g_hi = (float(np.asarray(model.conductance(np.array([x]))).ravel()[0]) for x in (lo_x, hi_x))
    g_min, g_max = min(g_lo, g_hi), max(g_lo, g_hi)
    bad = ~np.isfinite(g) | (g < g_min * (1 - 1e-12)) | (g > g_max * (1 + 1e-12))
    if np.any(bad):
        v = float(g[bad].flat[0])
        raise ParameterError(
            f"a conductance of {v:g} S is outside the {model.name} range [{g_min:g}, {g_max:g}] S: the tile cannot be "
            "written into this crossbar (use a tile device tabulated from the same compact model)"
        )
    increasing = g_hi > g_lo
    a = np.full(g.shape, lo_x)
    b = np.full(g.shape, hi_x)
    for _ in range(64):
        m = 0.5 * (a + b)
        gm = np.asarray(model.conductance(m), dtype=float)
        go_up = (gm < g) if increasing else (gm > g)
        a = np.where(go_up, m, a)
        b = np.where(go_up, b, m)
    return 0.5 * (a + b)
