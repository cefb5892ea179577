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

from memspice.devices.compact import states_for_conductance  # re-exported: the checkpoints' name for it

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
