"""Co-simulation checkpoints: every K training steps, one layer's tile is run as a circuit in ngspice.

At a checkpoint the current conductance pairs of a layer (or of a sub-tile of
at most 64 x 64 weights) are written into a 1R crossbar of a compact model:
rows are the layer's inputs, each output j has two columns (2j: G+, 2j+1:
G-), every device's state is the one whose conductance equals the tile's G.
ngspice then runs

(a) a batch of reads: the first ``n_reads`` input vectors of the current
    mini-batch, as row voltages x·v_read (v_read: the model's read voltage),
    each output read as y_j = (I_2j - I_2j+1) / (g_scale · v_read); the
    surrogate's answer is the noise-free product with the same sub-tile's
    weights, y = W_sub x_sub;
(b) one update step: a stochastic pulse-coincidence update
    (memspice.validate.coincidence_schedule) of the first sample of the
    batch, with both devices of a pair getting the same pulse trains (G+
    towards the update, G- against it). Two predictions sit beside
    ngspice's: the array-aware one (the same schedule on the same crossbar,
    wires included, memspice.surrogate.array_write: the default of
    ``dg_rel_rms``) and the tile's own, on a copy of the tile
    (``dg_rel_rms_tile``; ``[cosim] surrogate = "tile"`` makes it the
    headline figure): ``apply_pulses`` of the same coincidence counts for a
    wire-blind tile, within its bounds; for an array-aware tile
    ([tile.array]) the same pulse trains through its whole layer's write
    circuit -- the same circuit as the checkpoint's when the checkpoint
    covers the whole layer with the same wires.

Errors logged per checkpoint to ``cosim.csv`` (and, per epoch, the last
checkpoint's values into the metrics CSV, see :data:`METRIC_COLUMNS`):
``output_rel_rms`` = RMS(y_spice - y_sur)/RMS(y_sur); ``dg_rel_rms`` =
RMS(ΔG_sur - ΔG_spice)/RMS(ΔG_spice) over the devices that received pulses,
``dg_rel_rms_array`` and ``dg_rel_rms_tile`` the two predictions
(``dg_rel_rms_inside``: the tile's without the ``at_bound_devices`` it
stopped at its hard bounds, where the circuit's device moves on);
``dg_disturb_max_s``: the largest |ΔG| in ngspice of a device that should not
have moved (half-select disturb; ``dg_disturb_max_array_s`` the array-aware
prediction of it, the tile has none); the energy of the update (J, the
sources' ∫v·i dt).

The SPICE work runs in a separate worker process (a fresh interpreter,
:func:`run_in_worker`), in its own process group, with a timeout: a failing, non-converging or slow
simulation is logged with its error and training goes on. With
``resync = true`` the tile takes the devices' conductances after the SPICE
update (the checkpoint's update step is then part of training).

Randomness: the checkpoint at global step s draws its pulse trains from
SeedSequence(seed, spawn_key=(0xC051, s)) -- independent of the training
streams, the same on resume.

The compact model must cover the tile's conductances, and the tile's
device should be derived from it (memspice.surrogate.tabulate_compact_model
or memspice.calibrate), with the same pulses as in [cosim]: otherwise the
comparison measures a model mismatch, not the circuit.

The ``[cosim]`` keys: :mod:`memspice.validate.cosim_config`. What a checkpoint needs from
a tile and a layer: :mod:`memspice.validate.cosim_tile`.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from pathlib import Path

import numpy as np

from memspice.errors import ConfigError, MemspiceError, ParameterError
from memspice.spice.settings import RunSettings
from memspice.validate.cosim_config import (
    COSIM_IMPORTED_FIX,
    CosimConfig,
    cosim_config_from_table,
    cosim_table_with_tile,
)
from memspice.validate.cosim_tile import CosimTile, copy_tile, states_for_conductance
from memspice.validate.cosim_worker import run_in_worker

__all__ = ["CosimConfig", "cosim_config_from_table", "CosimCheckpoints", "CosimTile", "make_cosim", "run_in_worker",
           "METRIC_COLUMNS", "CSV_COLUMNS", "states_for_conductance"]

#: columns added to metrics.csv when co-simulation is on (per epoch: the last checkpoint's values)
METRIC_COLUMNS = ("cosim_checkpoints", "cosim_failures", "cosim_output_rel_rms", "cosim_dg_rel_rms",
                  "cosim_energy_per_update_j")
#: columns of cosim.csv (one row per checkpoint)
CSV_COLUMNS = ("epoch", "step", "layer", "status", "inputs", "outputs", "n_reads", "output_rel_rms",
               "output_max_abs", "dg_rel_rms", "dg_rel_rms_array", "dg_rel_rms_tile", "dg_rel_rms_inside", "at_bound_devices", "dg_rms_s", "dg_max_abs_s", "dg_disturb_max_s", "dg_disturb_max_array_s", "pulsed_devices",
               "energy_j", "energy_per_pulsed_device_j", "resynced_devices", "wall_s", "message")

_SEED_KEY = 0xC051


def make_cosim(train_config, out_dir, rule, net, *, resume: bool = False) -> "CosimCheckpoints | None":
    """The trainer's hook: checkpoints of ``train_config.cosim`` for ``net`` (None when off).

    Checks the layer and tile at once (ConfigError before any training);
    with ``resume`` the rows of an existing cosim.csv are kept.
    """
    table = cosim_table_with_tile(getattr(train_config, "cosim", {}) or {}, getattr(train_config, "tile", {}) or {})
    cfg = cosim_config_from_table(table)
    if not cfg.enabled:
        return None
    cs = CosimCheckpoints(cfg, out_dir, seed=train_config.seed, rule=rule)
    cs.check(net)
    if resume:
        cs.load_rows()
    return cs


# ----------------------------------------------------------------------------- checkpoints
def _rel_rms(err: np.ndarray, ref: np.ndarray) -> float:
    r = float(np.sqrt(np.mean(np.square(ref)))) if ref.size else 0.0
    return float(np.sqrt(np.mean(np.square(err)))) / r if r > 0 else float("nan")


class CosimCheckpoints:
    """Runs the checkpoints of one training run and logs them (``cosim.csv``, metrics columns)."""

    def __init__(self, config: CosimConfig, out_dir: str | Path, *, seed: int, rule=None):
        self.config = config
        self.out_dir = Path(out_dir)
        self.seed = int(seed)
        self.learning_rate = config.learning_rate or float(getattr(rule, "learning_rate", 0.1))
        self.bl = config.bl or int(getattr(rule, "bl", 10))
        self.update_management = bool(getattr(rule, "update_management", True))
        self.rows: list[dict] = []
        from memspice.external.registry import builtin_model

        self.model = builtin_model(config.model, config.model_params, where="[cosim]", fix=COSIM_IMPORTED_FIX)
        self._checked = False

    @property
    def metric_columns(self) -> tuple[str, ...]:
        return METRIC_COLUMNS

    def due(self, step: int) -> bool:
        """Whether a checkpoint follows global mini-batch ``step`` (1-based count of steps done)."""
        return self.config.enabled and step % self.config.every_steps == 0

    def check(self, net) -> None:
        """Refuse, before training, a layer or tile the checkpoints cannot handle (ConfigError)."""
        layer = self._layer(net)
        tile = getattr(layer, "tile", None)
        if tile is None:
            raise ConfigError(f"cosim.layer = {self.config.layer}: that layer has no tile (rule 'sgd' trains float weights)")
        if tile.config.scheme != "push_pull":
            raise ConfigError(f"co-simulation needs push-pull pairs; the tile's pair scheme is {tile.config.scheme!r}")
        m = tile.mapping
        g = np.array([m.g_min_s, m.g_max_s])
        try:
            states_for_conductance(self.model, g)
        except ParameterError as exc:
            raise ConfigError(f"[cosim] model {self.config.model!r} cannot hold the tile's conductances: {exc}") from None
        self._checked = True

    def _layer(self, net):
        try:
            return net.layers[self.config.layer]
        except IndexError:
            raise ConfigError(f"cosim.layer = {self.config.layer}: the network has {len(net.layers)} layers") from None

    def after_step(self, net, inputs, deltas, *, step: int, epoch: int) -> dict | None:
        """Run a checkpoint if ``step`` is due; returns its CSV row (also appended and written).

        ``epoch``: the epoch in progress, 1-based as metrics.csv numbers it.
        """
        if not self.due(step):
            return None
        if not self._checked:
            self.check(net)
        cfg = self.config
        k = cfg.layer % len(net.layers)
        row = {c: "" for c in CSV_COLUMNS}
        row.update(epoch=epoch, step=step, layer=k, status="ok")
        t0 = time.perf_counter()
        try:
            job, ctx = self._prepare(net.layers[k], inputs[k], deltas[k], step)
            row.update(inputs=len(ctx["in_idx"]), outputs=len(ctx["out_idx"]), n_reads=job["v_reads"].shape[0])
            res = run_in_worker(job, cfg.timeout_s)
            row.update(self._compare(net.layers[k], job, ctx, res))
        except MemspiceError as exc:
            row.update(status="error", message=" ".join(str(exc).split())[:500])
        row["wall_s"] = time.perf_counter() - t0
        self.rows.append(row)
        self._write()
        return row

    def _prepare(self, layer, x, d, step: int):
        cfg = self.config
        tile = layer.tile
        xt, dt = layer.update_operands(x, d)
        n_out, n_in = tile.shape
        score = np.mean(np.abs(xt), axis=0)
        in_idx = np.sort(np.argsort(-score, kind="stable")[: min(cfg.max_inputs, n_in)])
        out_idx = np.arange(min(cfg.max_outputs, n_out))
        gp = tile.g_plus[np.ix_(out_idx, in_idx)]
        gm = tile.g_minus[np.ix_(out_idx, in_idx)]
        g = np.empty((in_idx.size, 2 * out_idx.size))
        g[:, 0::2] = gp.T
        g[:, 1::2] = gm.T
        states = states_for_conductance(self.model, g)
        v_read = float(self.model.v_read_v)
        x_sub = xt[: cfg.n_reads, in_idx]
        # update: sample 0, the rule's scaling (docs/algorithms.md, "Stochastic pulse coincidence", one sample: C^2 = eta / (BL dw_min))
        from memspice.circuit import PulseShape
        from memspice.circuit.schedule import coincidence_schedule, draw_coincidence

        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_SEED_KEY, int(step))))
        x0, d0 = xt[0, in_idx], dt[0, out_idx]
        c2 = self.learning_rate / (self.bl * tile.dw_min)
        c_x = c_d = np.sqrt(c2)
        if self.update_management:
            m_x, m_d = float(np.abs(x0).max()), float(np.abs(d0).max())
            if m_x > 0 and m_d > 0:
                c_x, c_d = np.sqrt(c2 * m_d / m_x), np.sqrt(c2 * m_x / m_d)
        draw = draw_coincidence(x0, d0, bl=self.bl, c_x=c_x, c_d=c_d, rng=rng)
        pair = dataclasses.replace(draw, col_bits=np.repeat(draw.col_bits, 2, axis=1), q_cols=np.repeat(draw.q_cols, 2))
        pulse = PulseShape(width_s=cfg.width_s, rise_s=cfg.edge_s, fall_s=cfg.edge_s, delay_s=cfg.edge_s,
                           tail_s=cfg.edge_s)
        pol = np.tile([1.0, -1.0], out_idx.size)
        sched, counts = coincidence_schedule(x0, np.repeat(d0, 2), amplitude_up_v=cfg.amplitude_up_v,
                                             amplitude_down_v=cfg.amplitude_down_v, pulse=pulse, column_polarity=pol,
                                             draw=pair)
        job = {"model": cfg.model, "model_params": dict(cfg.model_params), "states": states, "wire_ohm": cfg.wire_ohm,
               "v_reads": x_sub * v_read, "schedule": sched,
               "settings": RunSettings(backend=cfg.backend, timeout_s=cfg.timeout_s)}
        ctx = {"in_idx": in_idx, "out_idx": out_idx, "g": g, "x_sub": x_sub, "counts": counts, "v_read": v_read,
               "rng": rng, "draw": draw, "x0": x0, "d0": d0}
        return job, ctx

    def _compare(self, layer, job: dict, ctx: dict, res: dict) -> dict:
        tile = layer.tile
        in_idx, out_idx = ctx["in_idx"], ctx["out_idx"]
        g_scale = tile.mapping.g_scale_s
        i_cols = np.asarray(res["i_cols_a"])
        y_spice = (i_cols[:, 0::2] - i_cols[:, 1::2]) / (g_scale * ctx["v_read"])
        g = ctx["g"]
        w_sub = (g[:, 0::2] - g[:, 1::2]).T / g_scale  # (outputs, inputs)
        y_sur = ctx["x_sub"] @ w_sub.T
        # the surrogate's update: the tile's own pulse engine on a copy, the same coincidence counts
        copy = copy_tile(tile, ctx["rng"])
        if getattr(copy.config, "array_write", None) is not None:
            # an array-aware tile plays the same trains through its own (whole-layer) write circuit
            from memspice.surrogate.array_tile import coincidence_update

            draw, (n_out, n_in) = ctx["draw"], tile.shape
            rb = np.zeros((1, draw.row_bits.shape[0], n_in), dtype=bool)
            cb = np.zeros((1, draw.row_bits.shape[0], n_out), dtype=bool)
            rb[0][:, in_idx] = draw.row_bits
            cb[0][:, out_idx] = draw.col_bits
            xf, df = np.zeros((1, n_in)), np.zeros((1, n_out))
            xf[0, in_idx], df[0, out_idx] = ctx["x0"], ctx["d0"]
            coincidence_update(copy, xf, df, rb, cb)
        else:
            n = np.zeros(tile.shape, dtype=np.int64)
            n[np.ix_(out_idx, in_idx)] = ctx["counts"][:, 0::2].T  # pulses of G+ = the weight's pulse count
            copy.apply_pulses(n)
        g_sur_after = np.empty_like(g)
        g_sur_after[:, 0::2] = copy.g_plus[np.ix_(out_idx, in_idx)].T
        g_sur_after[:, 1::2] = copy.g_minus[np.ix_(out_idx, in_idx)].T
        g_spice_after = np.asarray(self.model.conductance(res["states_after"]), dtype=float)
        dg_spice, dg_tile = g_spice_after - g, g_sur_after - g
        dg_array = self._array_prediction(job, g) - g
        pulsed = ctx["counts"] != 0
        dg_sur = dg_array if self.config.surrogate == "array" else dg_tile
        err = (dg_sur - dg_spice)[pulsed]
        # devices the tile stopped at its hard bounds (its operating window): the circuit's device
        # goes on, so these differ by construction; the figure without them isolates the model error
        lo = np.empty_like(g)
        hi = np.empty_like(g)
        ix = np.ix_(out_idx, in_idx)
        lo[:, 0::2], lo[:, 1::2] = copy.draws.lo_s[0][ix].T, copy.draws.lo_s[1][ix].T
        hi[:, 0::2], hi[:, 1::2] = copy.draws.hi_s[0][ix].T, copy.draws.hi_s[1][ix].T
        tol = 1e-9 * (hi - lo)
        at_bound = pulsed & ((g_sur_after <= lo + tol) | (g_sur_after >= hi - tol))
        inside = pulsed & ~at_bound
        out = {
            "output_rel_rms": _rel_rms(y_spice - y_sur, y_sur),
            "output_max_abs": float(np.max(np.abs(y_spice - y_sur))),
            "dg_rel_rms": _rel_rms(err, dg_spice[pulsed]),
            "dg_rel_rms_array": _rel_rms((dg_array - dg_spice)[pulsed], dg_spice[pulsed]),
            "dg_rel_rms_tile": _rel_rms((dg_tile - dg_spice)[pulsed], dg_spice[pulsed]),
            "dg_rel_rms_inside": _rel_rms((dg_tile - dg_spice)[inside], dg_spice[inside]),
            "at_bound_devices": int(at_bound.sum()),
            "dg_rms_s": float(np.sqrt(np.mean(err**2))) if err.size else float("nan"),
            "dg_max_abs_s": float(np.max(np.abs(err))) if err.size else float("nan"),
            "dg_disturb_max_s": float(np.max(np.abs(dg_spice[~pulsed]))) if (~pulsed).any() else 0.0,
            "dg_disturb_max_array_s": float(np.max(np.abs(dg_array[~pulsed]))) if (~pulsed).any() else 0.0,
            "pulsed_devices": int(pulsed.sum()),
            "energy_j": float(res["energy_j"]),
            "energy_per_pulsed_device_j": float(res["energy_j"]) / int(pulsed.sum()) if pulsed.any() else float("nan"),
            "resynced_devices": 0,
        }
        if self.config.resync:
            out["resynced_devices"], skipped = self._resync(tile, in_idx, out_idx, g_spice_after)
            if skipped:
                out["message"] = f"resync: {skipped} device(s) left out, their SPICE conductance is outside the tile's bounds"
        return out

    def _array_prediction(self, job: dict, g: np.ndarray) -> np.ndarray:
        """Conductances after the checkpoint's schedule on its crossbar, array-aware (wires as in ngspice).

        The checkpoint's crossbar is an array-aware tile's layout (rows = inputs, columns 2j / 2j+1 = G+ / G-
        of output j), so its write circuit and amplitude response are the ArrayWriteConfig's of [cosim].
        """
        from memspice.surrogate.array_tile import ArrayWriteConfig
        from memspice.surrogate.array_write import WriteArray, predict_schedule

        cfg = self.config
        write = ArrayWriteConfig(model=cfg.model, model_params=tuple(cfg.model_params.items()),
                                 amplitude_up_v=cfg.amplitude_up_v, amplitude_down_v=cfg.amplitude_down_v,
                                 width_s=cfg.width_s, edge_s=cfg.edge_s, row_wire_ohm=job["wire_ohm"],
                                 col_wire_ohm=job["wire_ohm"])
        sched = job["schedule"]
        array = WriteArray(write.topology(g.shape[1] // 2, g.shape[0]), write.response())
        return predict_schedule(array, g, sched.row_levels_v, sched.col_levels_v)

    @staticmethod
    def _resync(tile, in_idx, out_idx, g_after) -> tuple[int, int]:
        gp, gm = tile.g_plus.copy(), tile.g_minus.copy()
        new_p, new_m = g_after[:, 0::2].T, g_after[:, 1::2].T
        lo, hi = tile.draws.lo_s, tile.draws.hi_s
        ix = np.ix_(out_idx, in_idx)
        ok_p = (new_p >= lo[0][ix]) & (new_p <= hi[0][ix])
        ok_m = (new_m >= lo[1][ix]) & (new_m <= hi[1][ix])
        gp[ix] = np.where(ok_p, new_p, gp[ix])
        gm[ix] = np.where(ok_m, new_m, gm[ix])
        tile.set_conductances(gp, gm)
        n_ok = int(ok_p.sum() + ok_m.sum())
        return n_ok, int(ok_p.size + ok_m.size - n_ok)

    def _write(self) -> None:
        path = self.out_dir / "cosim.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_COLUMNS)
            for r in self.rows:
                w.writerow([repr(float(r[c])) if isinstance(r[c], float) else r[c] for c in CSV_COLUMNS])
        tmp.replace(path)

    def load_rows(self) -> None:
        """Rows of an existing cosim.csv (numbers parsed), so a resumed run keeps its earlier checkpoints."""
        path = self.out_dir / "cosim.csv"
        if not path.is_file():
            return
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        ints = ("epoch", "step", "layer", "inputs", "outputs", "n_reads", "pulsed_devices", "resynced_devices",
                "at_bound_devices")
        for r in rows:
            for k, v in r.items():
                if k in ints and v != "":
                    r[k] = int(v)
                elif k not in ("status", "message") and v != "":
                    r[k] = float(v)
        self.rows = rows

    def epoch_metrics(self, epoch: int) -> dict:
        """The metrics.csv columns of ``epoch`` (1-based): checkpoints, failures and the last good one's errors."""
        rows = [r for r in self.rows if r["epoch"] == epoch]
        good = [r for r in rows if r["status"] == "ok"]
        last = good[-1] if good else {}
        nan = float("nan")
        return {
            "cosim_checkpoints": len(rows),
            "cosim_failures": len(rows) - len(good),
            "cosim_output_rel_rms": float(last.get("output_rel_rms", nan)),
            "cosim_dg_rel_rms": float(last.get("dg_rel_rms", nan)),
            "cosim_energy_per_update_j": float(last.get("energy_j", nan)),
        }
