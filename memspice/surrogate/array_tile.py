"""Array-aware updates of an AnalogTile: every coincidence pulse goes through the crossbar's write circuit.

With ``TileConfig.array_write`` set (an :class:`ArrayWriteConfig`), a
stochastic pulse-coincidence update is not a table of pulse counts applied
at the nominal voltage. Each sample's pulse trains become the line voltages
of a coincidence schedule (memspice.circuit.schedule.coincidence_schedule:
firing rows at A/2, firing columns at -A/2, one phase per sign pair and pair
polarity) on a 1R crossbar laid out as the co-simulation checkpoints lay it
out -- rows are the tile's inputs, output j owns columns 2j (G+) and 2j+1
(G-), and both devices of a pair get the same pulses. The device voltages of
every slot come from the nodal solve of the write circuit (wires, contacts,
drivers; memspice.surrogate.array_write.WriteArray) and each device, pulsed
or only half-selected, takes the compact model's step at its own voltage
(AmplitudeResponse). So IR drop and half-select disturb are part of training,
and the tile's conductances range over the compact model's whole window.

Cost: the write circuit is linear at fixed conductances, so one
factorisation and rows + cols solves give its transfer matrix (device
voltage per volt on each line) and every slot's voltages are one matrix
product. ``refactor`` says how often the transfer matrix follows the
conductances: per sample ("sample", default), once per mini-batch
("batch"), or a fresh solve for every slot ("slot", exact to the slot,
the only choice for a non-linear device I-V). Measured against "slot"
(benchmarks/array_write.py, VTEAM, 1 ohm, 30 % of the lines firing per
slot, batch 16): "sample" 0.06-0.24 % RMS of ΔG, "batch" 0.7-7.6 % (VTEAM's
step grows ~12x faster than its voltage near the threshold, so a voltage
that lags a mini-batch of conductance changes shows). Each device then steps with
the response at its own voltage, in slot order; devices at voltages that
move nothing (inside the thresholds) are skipped exactly. The transfer
matrix has rows·cols·(rows + cols) entries, so this is for layers of up to
a few thousand devices (digits 64-32-10), not for 784-wide layers.

For wide layers, ``refactor = "mean-field"``: the mini-batch's coincidence
counts are applied as the wire-blind tile applies them, but every device's
step is scaled by the share of its nominal step it makes at the voltage the
array leaves it when its row and column fire (AmplitudeResponse at that
voltage over the response at the nominal one, at the device's conductance).
Those voltages come from the line solver at the batch's line firing rates
(memspice.surrogate.line_solver.coincidence_voltages: one solve per column
polarity and pulse direction), refreshed every ``refresh_every``
mini-batches. The half-selected cells are not stepped (their disturb is left
out), and the slots' own firing patterns scatter around the rates: the
error against "slot" is measured in benchmarks/array_write.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from memspice.circuit import PulseShape
from memspice.circuit.network import Topology
from memspice.circuit.schedule import CoincidenceDraw, coincidence_schedule
from memspice.errors import ParameterError
from memspice.surrogate.array_write import AmplitudeResponse, WriteArray, amplitude_response, predict_schedule
from memspice.surrogate.pulse_base import DeviceDraws
from memspice.surrogate.pulse_counts import apply_pulse_counts

__all__ = ["ArrayWriteConfig", "coincidence_update", "mean_field_update", "pair_crossbar_conductances"]

_REFACTOR = ("batch", "sample", "slot", "mean-field")
_ENGINES = ("vacask", "ngspice")
#: the largest layer (inputs, outputs) a circuit engine plays in the loop
CIRCUIT_MAX = 64


@dataclass(frozen=True)
class ArrayWriteConfig:
    """The write circuit of an array-aware tile (see the module docstring)."""

    model: str = ""
    """Compact model of the devices (memspice.devices name, e.g. "vteam")."""
    model_params: tuple = ()
    """Its parameter overrides as (name, value) pairs, SI units."""
    amplitude_up_v: float = 0.0
    """Signed cell voltage of a coincidence that raises G (V)."""
    amplitude_down_v: float = 0.0
    """Signed cell voltage of a coincidence that lowers G (V)."""
    width_s: float = 50e-9
    """Pulse plateau (s)."""
    edge_s: float = 5e-9
    """Rise and fall time (s)."""
    row_wire_ohm: float = 0.0
    """Resistance of one row-wire segment (ohm)."""
    col_wire_ohm: float = 0.0
    """Resistance of one column-wire segment (ohm)."""
    contact_ohm: float = 0.0
    """Contact resistance in series with every device (ohm)."""
    driver_ohm: float = 0.0
    """Output resistance of every line driver (ohm)."""
    refactor: str = "sample"
    """How the write circuit is solved: "sample" (default), "batch" or "slot" (module docstring), or "mean-field"
    (any layer width: memspice.surrogate.line_solver)."""
    refresh_every: int = 1
    """"mean-field": mini-batches between two solves of the write circuit (the step factors are kept between)."""
    engine: str = "nodal"
    """Who plays the pulses: "nodal" (the array-aware surrogate) or a circuit engine, "vacask" or "ngspice"
    (circuit in the loop: each mini-batch's pulses as one transient, the tile takes the circuit's states)."""
    circuit_layers: tuple = ()
    """Layers (network indices, -1 = the last) whose tiles play their pulses in ``circuit_engine``."""
    circuit_engine: str = "vacask"
    """The engine of ``circuit_layers``: "vacask" (fast, KLU) or "ngspice"."""

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model:
            raise ParameterError("ArrayWriteConfig.model: name the compact model of the devices (e.g. 'vteam')")
        object.__setattr__(self, "model_params", tuple((str(k), float(v)) for k, v in dict(self.model_params).items()))
        for name in ("amplitude_up_v", "amplitude_down_v"):
            v = float(getattr(self, name))
            if not np.isfinite(v) or v == 0:
                raise ParameterError(f"ArrayWriteConfig.{name} = {v!r}: give the signed cell voltage of the pulse (V, non-zero)")
        for name in ("width_s", "edge_s"):
            if not float(getattr(self, name)) > 0:
                raise ParameterError(f"ArrayWriteConfig.{name} = {getattr(self, name)!r}: must be a time > 0 (s)")
        self.topology(1, 1)  # the crossbar topology checks the wire, contact and driver resistances
        if not isinstance(self.refresh_every, (int, np.integer)) or isinstance(self.refresh_every, bool) \
                or self.refresh_every < 1:
            raise ParameterError(f"ArrayWriteConfig.refresh_every = {self.refresh_every!r}: give a whole number of "
                                 "mini-batches >= 1")
        if self.refactor not in _REFACTOR:
            raise ParameterError(f"ArrayWriteConfig.refactor = {self.refactor!r}: choose one of {', '.join(_REFACTOR)}")
        if self.engine not in ("nodal", *_ENGINES):
            raise ParameterError(f"ArrayWriteConfig.engine = {self.engine!r}: choose 'nodal', 'vacask' or 'ngspice'")
        if self.circuit_engine not in _ENGINES:
            raise ParameterError(f"ArrayWriteConfig.circuit_engine = {self.circuit_engine!r}: choose 'vacask' or 'ngspice'")
        layers = tuple(self.circuit_layers)
        if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in layers):
            raise ParameterError(f"ArrayWriteConfig.circuit_layers = {self.circuit_layers!r}: give layer indices (integers)")
        object.__setattr__(self, "circuit_layers", tuple(int(k) for k in layers))

    def for_layer(self, k: int, n_layers: int, shape: tuple[int, int]) -> "ArrayWriteConfig":
        """This write circuit for layer ``k`` of ``n_layers``: in the circuit engine if ``circuit_layers`` names it."""
        if not any(j % n_layers == k % n_layers for j in self.circuit_layers):
            return self
        n_out, n_in = shape
        if n_in > CIRCUIT_MAX or n_out > CIRCUIT_MAX:
            raise ParameterError(
                f"layer {k} has {n_out} x {n_in} weights; circuit-in-the-loop layers hold at most "
                f"{CIRCUIT_MAX} x {CIRCUIT_MAX} (a {CIRCUIT_MAX} x {2 * CIRCUIT_MAX} crossbar): take it out of "
                "circuit_layers or make it smaller"
            )
        return dataclasses.replace(self, engine=self.circuit_engine, circuit_layers=())

    # ------------------------------------------------------------------ derived
    def compact_model(self):
        from memspice.external.registry import builtin_model

        return builtin_model(self.model, self.model_params, where="[tile.array]")

    @property
    def pulse(self) -> PulseShape:
        return PulseShape(width_s=self.width_s, rise_s=self.edge_s, fall_s=self.edge_s, delay_s=self.edge_s,
                          tail_s=self.edge_s)

    def conductance_range_s(self) -> tuple[float, float]:
        """(lowest, highest) conductance of the compact model over its state range (S)."""
        m = self.compact_model()
        g = np.asarray(m.conductance(np.array([m.x_min, m.x_max])), dtype=float)
        return float(g.min()), float(g.max())

    def full_range_device(self):
        """The compact model tabulated at this write's nominal pulses over its whole conductance range (cached)."""
        key = ("device", self)
        dev = _RESPONSES.get(key)
        if dev is None:
            from memspice.surrogate.tabulated import tabulate_compact_model

            dev = tabulate_compact_model(self.compact_model(), self.amplitude_up_v, self.amplitude_down_v, self.width_s,
                                         rise_s=self.edge_s, fall_s=self.edge_s)
            _RESPONSES[key] = dev
        return dev

    def response(self) -> AmplitudeResponse:
        """The compact model's amplitude response for this write (tabulated once per configuration)."""
        resp = _RESPONSES.get(self)
        if resp is None:
            up, down = self.amplitude_up_v, self.amplitude_down_v
            v_max = max(abs(up), abs(down)) * (1 + 1e-6)  # a coincidence slot spans A/2 - (-A/2) = |A|
            resp = amplitude_response(self.compact_model(), self.pulse, v_max, nominal_v=(up, down, up / 2, down / 2))
            _RESPONSES[self] = resp
        return resp

    def topology(self, n_out: int, n_in: int) -> Topology:
        return Topology(rows=n_in, cols=2 * n_out, row_wire_ohm=self.row_wire_ohm, col_wire_ohm=self.col_wire_ohm,
                        contact_ohm=self.contact_ohm, driver_ohm=self.driver_ohm)

    def check_mapping(self, g_min_s: float, g_max_s: float) -> None:
        lo, hi = self.conductance_range_s()
        tol = 1e-9 * (hi - lo)
        if g_min_s < lo - tol or g_max_s > hi + tol:
            raise ParameterError(
                f"the tile's conductances [{g_min_s:g}, {g_max_s:g}] S leave the range [{lo:g}, {hi:g}] S of the "
                f"array's compact model {self.model}; narrow [tile.mapping] or tabulate the device from that model"
            )


_RESPONSES: dict = {}  # per write configuration: its AmplitudeResponse, and ("device", config): its full-range table


def pair_crossbar_conductances(g_pairs: np.ndarray) -> np.ndarray:
    """(2, n_out, n_in) tile conductances -> (n_in, 2 n_out) crossbar: column 2j is G+ of output j, 2j+1 its G-."""
    _, n_out, n_in = g_pairs.shape
    g = np.empty((n_in, 2 * n_out))
    g[:, 0::2] = g_pairs[0].T
    g[:, 1::2] = g_pairs[1].T
    return g


def coincidence_update(tile, x: np.ndarray, delta: np.ndarray, row_bits: np.ndarray, col_bits: np.ndarray) -> None:
    """Apply one mini-batch of coincidence pulse trains through the write circuit of ``tile``.

    ``x`` (B, n_in) and ``delta`` (B, n_out): the update operands (their
    signs pick the phases); ``row_bits`` (B, BL, n_in) and ``col_bits`` (B,
    BL, n_out): which lines fire in which slot. Samples are applied in order.
    """
    cfg: ArrayWriteConfig = tile.config.array_write
    n_out, n_in = tile.shape
    x, delta = np.asarray(x, dtype=float), np.asarray(delta, dtype=float)
    rb, cb = np.asarray(row_bits, dtype=bool), np.asarray(col_bits, dtype=bool)
    if rb.shape[0] != x.shape[0] or rb.shape[2:] != (n_in,) or cb.shape[:2] != rb.shape[:2] or cb.shape[2:] != (n_out,):
        raise ParameterError(f"coincidence_update: row bits {rb.shape} and column bits {cb.shape} do not fit a batch of "
                             f"{x.shape[0]} on a {n_out} x {n_in} tile")
    pol = np.tile([1.0, -1.0], n_out)
    pulse = cfg.pulse
    zeros_r, zeros_c = np.zeros(n_in), np.zeros(2 * n_out)

    def schedule_of(b):
        draw = CoincidenceDraw(row_bits=rb[b], col_bits=np.repeat(cb[b], 2, axis=1), p_rows=zeros_r, q_cols=zeros_c,
                               n_clipped=0)
        return coincidence_schedule(x[b], np.repeat(delta[b], 2), amplitude_up_v=cfg.amplitude_up_v,
                                    amplitude_down_v=cfg.amplitude_down_v, pulse=pulse, column_polarity=pol,
                                    draw=draw)[0]

    if cfg.refactor == "mean-field" and cfg.engine == "nodal":  # the batch's coincidences, raising and lowering apart, and its line rates
        s = np.sign(delta)[:, :, None] * np.sign(x)[:, None, :]  # (B, n_out, n_in); -eta delta x^T: s < 0 raises
        c = np.einsum("bki,bkj->bji", rb.astype(np.int64), cb.astype(np.int64))
        mean_field_update(tile, (c * (s < 0)).sum(axis=0).reshape(-1), (c * (s > 0)).sum(axis=0).reshape(-1),
                          rb.sum(axis=(0, 1)), cb.sum(axis=(0, 1)), rb.shape[0] * rb.shape[1])
        return
    schedules = [schedule_of(b) for b in range(x.shape[0]) if rb[b].any() or cb[b].any()]
    if cfg.engine != "nodal":
        _play_in_circuit(tile, cfg, schedules)
        return
    _set_crossbar_conductances(tile, _nodal_play(cfg, n_out, n_in, pair_crossbar_conductances(tile._g), schedules,
                                                 cfg.refactor))


def _set_crossbar_conductances(tile, g: np.ndarray) -> None:
    """The tile's conductances from its (n_in, 2 n_out) crossbar (the inverse of pair_crossbar_conductances)."""
    tile._g[0] = g[:, 0::2].T
    tile._g[1] = g[:, 1::2].T
    tile._changed()


def _nodal_play(cfg: ArrayWriteConfig, n_out: int, n_in: int, g: np.ndarray, schedules: list, refactor: str) -> np.ndarray:
    """The crossbar conductances ``g`` after ``schedules`` played slot by slot through the nodal write circuit."""
    resp = cfg.response()
    array = WriteArray(cfg.topology(n_out, n_in), resp)
    refactor = refactor if resp.linear_iv else "slot"
    transfer = array.transfer(g) if refactor == "batch" else None
    for sched in schedules:
        rl, cl = sched.row_levels_v, sched.col_levels_v
        if refactor == "slot":
            g = predict_schedule(array, g, rl, cl, corrector=False)
            continue
        if refactor == "sample":
            transfer = array.transfer(g)
        v = (np.concatenate([rl, cl], axis=1) @ transfer.T).reshape(rl.shape[0], *g.shape)
        for k in range(rl.shape[0]):
            g = resp.step(g, v[k])
    return g


def _wire_blind_play(cfg: ArrayWriteConfig, g: np.ndarray, schedules: list) -> np.ndarray:
    """``g`` after ``schedules`` with every device at its nominal voltage (row level minus column level)."""
    resp = cfg.response()
    for sched in schedules:
        for rl, cl in zip(sched.row_levels_v, sched.col_levels_v):
            g = resp.step(g, rl[:, None] - cl[None, :])
    return g


#: what circuit-in-the-loop tiles accumulate per epoch (``tile._circuit_agreement``): sums over the devices of
#: ΔG_circuit², (ΔG_array-aware − ΔG_circuit)² and (ΔG_wire-blind − ΔG_circuit)², and the mini-batches played
AGREEMENT_SUMS = ("dg_circuit_sq", "err_array_sq", "err_wire_blind_sq", "batches")


def mean_field_update(tile, raising: np.ndarray, lowering: np.ndarray, row_fires: np.ndarray, col_fires: np.ndarray,
                      n_slots: int) -> None:
    """A mini-batch's coincidences with array-aware step factors; see the module docstring ("mean-field").

    ``raising`` / ``lowering`` (n_out·n_in,): each cell's coincidences that
    raise / lower its weight, counted apart (every pulse is played, as in the
    circuit: none cancels another); ``row_fires`` (n_in,), ``col_fires``
    (n_out,): in how many of the batch's ``n_slots`` (samples x BL) slots each
    line fired.
    """
    from memspice.surrogate.line_solver import coincidence_voltages

    cfg: ArrayWriteConfig = tile.config.array_write
    n_out, n_in = tile.shape
    gross = {1: np.asarray(raising, dtype=np.int64), -1: np.asarray(lowering, dtype=np.int64)}
    state = tile.__dict__.setdefault("_mean_field", {"batches": 0, "scale": None})
    if state["scale"] is None or state["batches"] % cfg.refresh_every == 0:
        resp = cfg.response()
        if not resp.linear_iv:
            raise ParameterError(f"refactor = 'mean-field' needs a device whose current is linear in its voltage; "
                                 f"{cfg.model}'s is not (its chord conductance depends on the pulse): use 'slot'")
        g = pair_crossbar_conductances(tile._g)
        p = np.asarray(row_fires, dtype=float) / max(n_slots, 1)
        q = np.asarray(col_fires, dtype=float) / max(n_slots, 1)
        circuit = {"row_wire_ohm": cfg.row_wire_ohm, "col_wire_ohm": cfg.col_wire_ohm,
                   "contact_ohm": cfg.contact_ohm, "driver_ohm": cfg.driver_ohm, "tol_v": 1e-7}
        scale = np.ones((2, 2, n_out, n_in))  # (up/down, G+/G-, n_out, n_in)
        for pc in (0, 1):  # G+ columns fire in their own phases, G- columns in theirs
            q_cols = np.zeros(2 * n_out)
            q_cols[pc::2] = q
            # the circuit is linear at fixed conductances: one solve at 1 V serves both amplitudes
            v1 = coincidence_voltages(g, p, q_cols, 0.5, -0.5, **circuit)[:, pc::2]
            gd = g[:, pc::2]
            for k, amp in enumerate((cfg.amplitude_up_v, cfg.amplitude_down_v)):
                v = amp * v1
                nominal = resp.after(gd, np.full(gd.shape, amp)) - gd
                actual = resp.after(gd, v) - gd
                s = np.divide(actual, nominal, out=np.zeros_like(actual), where=np.abs(nominal) > 0)
                scale[k, pc] = np.clip(s, 0.0, None).T  # a step the other way is not a share of this one
        state["scale"] = scale
    state["batches"] += 1
    # the devices step over the compact model's whole range (as in the circuit), not the tile's weight window
    device = cfg.full_range_device()
    lo, hi = device.g_min_s, device.g_max_s
    n_cells = n_out * n_in
    g = tile._g.reshape(-1)
    s_up, s_down = state["scale"][0].reshape(-1), state["scale"][1].reshape(-1)
    d = tile.draws
    for direction in (1, -1):  # both devices of a pair get the pulses: G+ moves with W, G- against it
        cells = np.flatnonzero(gross[direction])
        if not cells.size:
            continue
        dev = np.concatenate([cells, cells + n_cells])
        n = np.concatenate([direction * gross[direction][cells], -direction * gross[direction][cells]])
        sub = DeviceDraws(lo_s=np.full(dev.size, lo), hi_s=np.full(dev.size, hi),
                          f_up=d.f_up.reshape(-1)[dev] * s_up[dev], f_down=d.f_down.reshape(-1)[dev] * s_down[dev])
        g[dev] = apply_pulse_counts(device, g[dev], n, sub, tile.rng, "per_pulse")
    tile._changed()


def _play_in_circuit(tile, cfg: ArrayWriteConfig, schedules: list) -> None:
    """Circuit in the loop: the samples' schedules, one after the other, as one transient of the tile's crossbar.

    The crossbar holds the devices in the states of the tile's conductances;
    afterwards the tile takes the circuit's states. A state the engine leaves
    beyond the model's bounds by more than its rounding (1e-6 of the range)
    is an error, not clipped.
    """
    if not schedules:
        return
    from memspice.circuit import Crossbar
    from memspice.circuit.saves import Saves
    from memspice.circuit.schedule import PulseSchedule
    from memspice.circuit.transient import transient
    from memspice.devices.compact import states_for_conductance
    from memspice.spice import RunSettings

    model = cfg.compact_model()
    g = pair_crossbar_conductances(tile._g)
    n_out, n_in = tile.shape
    # the surrogates' answers to the same pulses from the same states: the per-step agreement of the write models
    # (the array-aware one as the config's refactor says; "sample" for "mean-field", whose step needs a batch's rates)
    refactor = "sample" if cfg.refactor == "mean-field" else cfg.refactor
    predicted = (_nodal_play(cfg, n_out, n_in, g, schedules, refactor), _wire_blind_play(cfg, g, schedules))
    sched = PulseSchedule(
        row_levels_v=np.concatenate([s.row_levels_v for s in schedules]),
        col_levels_v=np.concatenate([s.col_levels_v for s in schedules]),
        selected_pulses=sum(s.selected_pulses for s in schedules), pulse=schedules[0].pulse,
        label=f"circuit-in-the-loop update, {len(schedules)} sample(s)",
    )
    xb = Crossbar(model, states_for_conductance(model, g), row_wire_ohm=cfg.row_wire_ohm, col_wire_ohm=cfg.col_wire_ohm,
                  contact_ohm=cfg.contact_ohm, driver_ohm=cfg.driver_ohm)
    run = transient(xb, sched.drive(), RunSettings(engine=cfg.engine), saves=Saves(currents=()))
    x = run.states_after()
    span = model.x_max - model.x_min
    beyond = (x < model.x_min - 1e-6 * span) | (x > model.x_max + 1e-6 * span) | ~np.isfinite(x)
    if beyond.any():
        raise ParameterError(f"{cfg.engine} left {int(beyond.sum())} device state(s) outside [{model.x_min:g}, "
                             f"{model.x_max:g}] (e.g. {float(x[beyond].flat[0])!r}); tighten the engine's tolerances")
    x = np.clip(x, model.x_min, model.x_max)  # rounding only (checked above)
    g_new = np.asarray(model.conductance(x), dtype=float) * np.ones(g.shape)
    dg = g_new - g
    sums = tile.__dict__.setdefault("_circuit_agreement", np.zeros(len(AGREEMENT_SUMS)))
    sums += [np.sum(dg**2), np.sum((predicted[0] - g_new) ** 2), np.sum((predicted[1] - g_new) ** 2), 1.0]
    _set_crossbar_conductances(tile, g_new)
