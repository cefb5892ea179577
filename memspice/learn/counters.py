"""Operation counters of a training run: every read, every pulse and every outer-product update, per layer.

One :class:`OpCounters` per run holds a small float64 array (layers x
:data:`FIELDS`); every record call adds a few numbers to one row, so counting
costs a handful of numpy reductions per layer and mini-batch. Who records what:

* the trainer, after each mini-batch's forward and backward pass,
  :meth:`OpCounters.record_passes` (the reads: one forward read of every layer
  per sample — per position for a convolution — and one backward (transposed)
  read of every layer but the first);
* the update rules, given the run's counters in each
  ``rule.step(net, inputs, deltas, rng, counters)`` call (None: nothing is
  counted; a rule keeps no reference to them), through the helpers
  :func:`train_hook`, :func:`record_programmed`, :func:`record_outer`,
  :func:`record_reads` and :func:`record_array_pulses`, which do nothing
  without counters:

  - pulse-coincidence updates report their pulse trains
    (:meth:`OpCounters.record_trains`): slots, line pulses, coincidences
    (cells that see the full V) and half-selected cells (one line pulsed, V/2);
  - rules that program a computed count matrix cell by cell report it
    (:meth:`OpCounters.record_pulses`);
  - pulses on every cell of a tile at once (Tiki-Taka's zero-shift pulses) as
    such (:meth:`OpCounters.record_array_pulses`);
  - reads a rule makes itself beyond the trainer's passes (Tiki-Taka's transfer reads
    of its fast tile A, of the layer's shape) count as the layer's (:func:`record_reads`);
  - every rule reports its outer-product (matrix) updates and its digital
    work (:meth:`OpCounters.record_update`).

What one "operation" is (our readings, stated once here):

``forward_reads`` / ``backward_reads``
    vector reads of the layer's tile (a mat-vec through the crossbar),
    counted for float layers too, as if they ran on one.
``*_rows``
    lines driven with a non-zero value in those reads (row activations;
    the bias row counts, it is driven with 1).
``*_sum_abs`` / ``*_sum_sq``
    Σ|u| and Σu² over the driven values u = v/max|v| of each vector: the DAC
    spans each vector's own largest magnitude (input range management,
    Gokmen et al. 2017), so u is the fraction of full-scale read voltage.
    Analog read energy is a1·Σ|u| + a2·Σu² (per cell), binary reads use
    ``*_rows``, stochastic bit streams BL·Σ|u| expected bits.
``*_conversions``
    ADC conversions: one per output line per read.
``train_pulses``
    Σ|n| of the signed counts that coincidence trains applied to the tile
    (pulses of one polarity on one cell cancel those of the other within a
    mini-batch, see :class:`~memspice.learn.rules.stochastic_coincidence.StochasticCoincidence`).
``slots``, ``row_pulses``, ``col_pulses``, ``coincidences``, ``half_selected``
    of the coincidence trains: time slots, pulses on row and column lines,
    Σ_slots r_s·c_s cells at full V, Σ_slots r_s(C−c_s) + c_s(R−r_s) cells at
    V/2 (r_s rows and c_s of the C columns firing in slot s, R rows).
``cell_pulses`` / ``programmed_cells``
    pulses of count matrices programmed cell by cell (mixed precision,
    binary stochastic, CBRAM-SC, SBE "rounded") and the number of cells
    touched.
``outer_products``
    rank-1 parallel updates of the whole array (a pulse-coincidence update of
    one sample, one SBE eigen-update; the floating-point baseline: one per
    sample, the count per-sample SGD on a crossbar would need).
``digital_macs`` / ``accumulator_updates``
    multiply-accumulates the periphery does for the update (gradient
    products into an accumulator, power-iteration steps) and writes of
    per-weight accumulators.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

import numpy as np

from memspice.errors import DataError, ParameterError
from memspice.learn.read_stats import sample_stats, vector_stats
from memspice.energy.counters_csv import read_counters_csv  # the reader lives with its user (energy); re-exported for train-side callers

FIELDS = (
    "steps",
    "forward_reads", "forward_rows", "forward_sum_abs", "forward_sum_sq", "forward_conversions",
    "backward_reads", "backward_rows", "backward_sum_abs", "backward_sum_sq", "backward_conversions",
    "train_pulses", "slots", "row_pulses", "col_pulses", "coincidences", "half_selected",
    "cell_pulses", "programmed_cells",
    "outer_products", "digital_macs", "accumulator_updates",
)
_INDEX = {name: k for k, name in enumerate(FIELDS)}
_STATE_FORMAT = "memspice.learn.counters/1"
_PENDING_VALUES = 2**16
"""Read-vector entries of one layer and direction gathered before they are summed (OpCounters.record_read):
enough to spread the cost of a reduction over many small mini-batches, few enough to stay in the CPU cache."""


class OpCounters:
    """Per-layer operation counts of a run (module docstring); ``shapes[k]`` = (n_out, n_cols) of layer k's tile.

    ``devices_per_pulse[k]``: devices one count of the tile moves (2 for push-pull
    pairs, 1 for unipolar ones and float layers), kept for the energy model.
    """

    def __init__(self, shapes, devices_per_pulse=None):
        self.shapes = [tuple(int(s) for s in shape) for shape in shapes]
        if not self.shapes or any(len(s) != 2 or min(s) < 1 for s in self.shapes):
            raise ParameterError(f"OpCounters: give one (n_out, n_cols) per layer, got {shapes!r}")
        n = len(self.shapes)
        self.devices_per_pulse = [1] * n if devices_per_pulse is None else [int(d) for d in devices_per_pulse]
        if len(self.devices_per_pulse) != n:
            raise ParameterError(f"devices_per_pulse has {len(self.devices_per_pulse)} entries for {n} layers")
        self._a = np.zeros((n, len(FIELDS)))
        self._mark = np.zeros_like(self._a)
        self._pending: dict[tuple, list] = {}  # (layer, direction, bias) -> read vectors not yet summed
        self._pending_values: dict[tuple, int] = {}

    @classmethod
    def for_network(cls, net) -> "OpCounters":
        """Counters shaped like ``net``'s layers (tile shape incl. the bias column; float layers alike)."""
        shapes, dpp = [], []
        for layer in net.layers:
            tile = getattr(layer, "tile", None)
            if tile is not None:
                shapes.append(tile.shape)
                dpp.append(2 if tile.config.scheme == "push_pull" else 1)
            else:
                w, _ = layer.weights()
                shapes.append((w.shape[0], w.shape[1] + 1))
                dpp.append(1)
        return cls(shapes, dpp)

    @property
    def n_layers(self) -> int:
        return len(self.shapes)

    def _add(self, k: int, **values) -> None:
        row = self._a[k]
        for name, v in values.items():
            row[_INDEX[name]] += v

    # -- records -------------------------------------------------------------------------

    def record_read(self, k: int, direction: str, vectors: np.ndarray, bias: bool = False) -> None:
        """Reads of layer ``k``: ``vectors`` (reads, lines) driven into the tile, ``direction`` forward|backward
        (``bias``: of [vectors, 1]). Batched: kept (not copied; do not change them afterwards) and summed
        :data:`_PENDING_VALUES` entries at a time and whenever the counts are read."""
        if direction not in ("forward", "backward"):
            raise ParameterError(f"direction = {direction!r}: give 'forward' or 'backward'")
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ParameterError(f"read vectors must be a (reads, lines) array, got shape {vectors.shape}")
        key = (k, direction, bool(bias))
        self._pending.setdefault(key, []).append(vectors)
        values = self._pending_values.get(key, 0) + vectors.size
        self._pending_values[key] = values
        if values >= _PENDING_VALUES:
            self._flush(key)

    def _flush(self, key: tuple | None = None) -> None:
        """Sum the pending read vectors (of ``key``, default all) into the counts."""
        for kk in [key] if key is not None else list(self._pending):
            parts, _ = self._pending.pop(kk, None), self._pending_values.pop(kk, None)
            if parts:
                self._add_reads(kk[0], kk[1], *vector_stats(parts[0] if len(parts) == 1 else np.concatenate(parts), kk[2]))

    def _add_reads(self, k: int, d: str, reads: int, rows: int, s_abs: float, s_sq: float) -> None:
        n_out, n_cols = self.shapes[k]
        outputs = n_out if d == "forward" else n_cols
        self._add(k, **{f"{d}_reads": reads, f"{d}_rows": rows, f"{d}_sum_abs": s_abs, f"{d}_sum_sq": s_sq,
                        f"{d}_conversions": reads * outputs})

    def record_passes(self, net, trace, deltas, first_reads=None) -> None:
        """The reads of one training step: forward reads of every layer, backward reads of layers 1..L−1.

        The read vectors are the rows the update rules use (``update_operands``):
        layer inputs with the bias input 1, one row per sample (per position of a
        convolution); backward: the errors δ (u = v/max|v| does not see a gain).
        ``first_reads``: (reads, lines, Σ|u|, Σu²) of layer 0's forward reads if known.
        """
        from memspice.learn.operands import update_operands

        for k, layer in enumerate(net.layers):
            if hasattr(layer, "update_operands") and not hasattr(layer, "tile_inputs"):  # a convolution's rows
                xr, dr = update_operands(layer, trace.inputs[k], deltas[k])
                self.record_read(k, "forward", xr)
            else:  # a dense layer: its operands are [x, 1] and δ (operands.update_operands), not built here
                xr, dr = trace.inputs[k], deltas[k]
                if k == 0 and first_reads is not None:
                    self._add_reads(k, "forward", *first_reads)
                else:
                    self.record_read(k, "forward", xr, bias=True)
            if k > 0:
                self.record_read(k, "backward", dr)
            self._add(k, steps=1)

    def record_trains(self, k: int, rows, cols, counts: np.ndarray, outer_products: int) -> None:
        """Pulse-coincidence trains applied to layer ``k``.

        ``rows`` (S, R) and ``cols`` (S, C): which line fires in which of the S
        slots (:class:`~memspice.learn.rules.pulse_trains.PulseTrains`, bool, ±1 or a scipy
        sparse matrix whose stored entries are the pulses); ``counts`` the
        signed counts they applied (a matrix, or just its non-zero entries); ``outer_products``
        the rank-1 updates they make up (samples of the batch).
        """
        r_s = _per_slot(rows)
        c_s = _per_slot(cols)
        if r_s.shape != c_s.shape:
            raise ParameterError(f"row and column trains have {r_s.size} and {c_s.size} slots")
        n_rows = rows.shape[1]
        n_cols = cols.shape[1]
        both = float(r_s @ c_s)
        self._add(
            k, train_pulses=float(np.abs(counts).sum()), slots=r_s.size, row_pulses=float(r_s.sum()),
            col_pulses=float(c_s.sum()), coincidences=both,
            half_selected=float(n_cols * r_s.sum() + n_rows * c_s.sum() - 2.0 * both),
            outer_products=int(outer_products),
        )

    def record_pulses(self, k: int, counts: np.ndarray) -> None:
        """A count matrix programmed cell by cell on layer ``k`` (Σ|n| pulses on the cells with n ≠ 0)."""
        counts = np.asarray(counts)
        self._add(k, cell_pulses=float(np.abs(counts).sum()), programmed_cells=int(np.count_nonzero(counts)))

    def record_array_pulses(self, k: int, pulses: int) -> None:
        """``pulses`` pulses on every cell of layer ``k``'s tile at once, applied one by one.

        Each is one slot in which all R rows and C columns fire: R·C
        coincidences, no half-selected cell, one rank-1 (all-ones) update;
        pulses of alternating sign are applied separately, so each counts in
        ``train_pulses`` (R·C per pulse).
        """
        n_out, n_cols = self.shapes[k]
        p = int(pulses)
        self._add(k, train_pulses=p * n_out * n_cols, slots=p, row_pulses=p * n_cols, col_pulses=p * n_out,
                  coincidences=p * n_out * n_cols, outer_products=p)

    def record_update(self, k: int, *, outer_products: int = 0, digital_macs: float = 0,
                      accumulator_updates: float = 0) -> None:
        """Outer-product updates and digital work of one update of layer ``k``."""
        self._add(k, outer_products=int(outer_products), digital_macs=float(digital_macs),
                  accumulator_updates=float(accumulator_updates))

    # -- read-out ------------------------------------------------------------------------

    def totals(self) -> list[dict]:
        """Per layer: every field's count since the start of the run."""
        self._flush()
        return [dict(zip(FIELDS, row.tolist())) for row in self._a]

    def since_mark(self) -> list[dict]:
        """Per layer: counts since the last :meth:`mark` (the current epoch)."""
        self._flush()
        return [dict(zip(FIELDS, row.tolist())) for row in self._a - self._mark]

    def mark(self) -> None:
        """Start a new period (call at the end of each epoch)."""
        self._flush()
        self._mark = self._a.copy()

    def summed(self, per_layer: list[dict] | None = None) -> dict:
        """Every field summed over layers (of ``per_layer``, default :meth:`totals`)."""
        per_layer = self.totals() if per_layer is None else per_layer
        return {f: float(sum(d[f] for d in per_layer)) for f in FIELDS}

    def state_dict(self) -> dict:
        # reads not yet summed are saved, not summed: a run resumed mid-epoch sums the groups a straight run does
        return {"format": _STATE_FORMAT, "fields": list(FIELDS), "shapes": [list(s) for s in self.shapes],
                "devices_per_pulse": list(self.devices_per_pulse), "counts": self._a.copy(), "mark": self._mark.copy(),
                "pending": [[*key, np.concatenate(parts)] for key, parts in self._pending.items() if parts]}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise DataError(f"not an OpCounters state (format {state.get('format') if isinstance(state, dict) else None!r})")
        if list(state["fields"]) != list(FIELDS) or [tuple(s) for s in state["shapes"]] != self.shapes:
            raise DataError("the saved counters are for other fields or layer shapes; they cannot be resumed here")
        self._a = np.array(state["counts"], dtype=np.float64)
        self._mark = np.array(state["mark"], dtype=np.float64)
        self._pending = {(int(k), str(d), bool(b)): [np.asarray(v)] for k, d, b, v in state.get("pending", [])}
        self._pending_values = {key: v[0].size for key, v in self._pending.items()}


def _per_slot(trains) -> np.ndarray:
    """Lines firing in each slot of a train (S, n): PulseTrains, dense bool/±1 array or scipy sparse matrix."""
    if hasattr(trains, "per_slot"):
        return trains.per_slot()
    if hasattr(trains, "tocsr"):
        csr = trains.tocsr()
        csr.eliminate_zeros()
        return np.diff(csr.indptr).astype(np.float64)
    return np.count_nonzero(np.asarray(trains), axis=1).astype(np.float64)


def train_hook(counters: OpCounters | None, k: int, outer_products: int):
    """A callback ``(rows, cols, counts) -> None`` recording layer ``k``'s coincidence trains, or None."""
    if counters is None:
        return None
    return functools.partial(_record_trains, counters, k, outer_products)


def _record_trains(counters: OpCounters, k: int, outer_products: int, rows, cols, counts) -> None:
    counters.record_trains(k, rows, cols, counts, outer_products)


def record_programmed(counters: OpCounters | None, k: int, counts, *, macs: float = 0,
                      accumulator_updates: float = 0) -> None:
    """A rule programmed ``counts`` cell by cell on layer ``k`` after ``macs`` digital MACs (no-op without counters)."""
    if counters is not None:
        if counts is not None:
            counters.record_pulses(k, counts)
        counters.record_update(k, digital_macs=macs, accumulator_updates=accumulator_updates)


def record_reads(counters: OpCounters | None, k: int, direction: str, vectors) -> None:
    """Reads ``vectors`` (reads, lines) a rule drove into a tile of layer ``k``'s shape (no-op without counters)."""
    if counters is not None:
        counters.record_read(k, direction, vectors)


def record_array_pulses(counters: OpCounters | None, k: int, pulses: int) -> None:
    """``pulses`` whole-array pulses on a tile of layer ``k``'s shape (no-op without counters)."""
    if counters is not None and pulses:
        counters.record_array_pulses(k, pulses)


def record_outer(counters: OpCounters | None, k: int, outer_products: int, *, macs: float = 0,
                 accumulator_updates: float = 0) -> None:
    """A rule applied ``outer_products`` rank-1 updates to layer ``k`` (no-op without counters)."""
    if counters is not None:
        counters.record_update(k, outer_products=outer_products, digital_macs=macs, accumulator_updates=accumulator_updates)


class RunAccounting:
    """What the trainer keeps per run: the counters, passed to every ``rule.step``, and the per-epoch summaries.

    Trainer use (each one line)::

        acct = RunAccounting(net, rule.name, energy_model)   # after the network exists
        rule.step(net, inputs, deltas, rng, acct.counters)   # the rule records its update
        acct.after_step(net, trace, deltas)                  # the step's reads, after every rule.step
        history[-1].update(acct.epoch_metrics(out_dir, epoch))   # at the end of each epoch
        state["accounting"] = acct.state_dict()            # in the checkpoint (load_state_dict on resume)

    ``epoch_metrics`` writes ``counters.csv`` (the epoch's counts, one row per
    epoch and layer, with the layer's shape) and ``operations.json`` (the run's
    totals per layer and summed, the rule's name, and with an energy model its
    energy by part and ``energy_table``, the ``energy_source`` that says which
    table produced the numbers) into the run folder; with an
    :class:`~memspice.energy.EnergyModel` it returns the epoch's energy estimate
    (``energy_<part>_j`` columns for metrics.csv), without one nothing (metrics.csv
    keeps its columns). ``memspice energy estimate RUN`` applies any table to
    counters.csv after the run.
    """

    def __init__(self, net, rule_name: str, energy_model=None, energy_source: str | None = None):
        self.counters = OpCounters.for_network(net)
        self.energy_model = energy_model
        self.energy_source = energy_source if energy_model is not None else None
        self.rule_name = rule_name
        self._rows: list[dict] = []

    @classmethod
    def start(cls, net, rule_name: str, config, state: dict | None = None) -> "RunAccounting":
        """The trainer's accounting, resumed from a checkpoint ``state`` if given.

        Energy model from ``config.energy`` (an ``[energy]`` table, see
        :mod:`memspice.energy.config`); without one, or without its ``table``
        key, the shipped default table (:mod:`memspice.energy.default`). A run
        resumed from a checkpoint made before every run had an estimate (no
        ``energy_source`` in its accounting state) keeps what it started with:
        counts only unless its config has an [energy] table.
        """
        from memspice.energy.config import energy_model_from_table, energy_table_label

        table = dict(getattr(config, "energy", None) or {})
        saved = None if state is None else state.get("accounting")
        if saved is not None and not saved.get("energy_source") and not table:
            acct = cls(net, rule_name)
        else:
            acct = cls(net, rule_name, energy_model_from_table(table), energy_table_label(table))
        if saved is not None:
            acct.load_state_dict(saved)
        return acct

    @property
    def metric_columns(self) -> tuple[str, ...]:
        if self.energy_model is None:
            return ()
        from memspice.energy.estimate import energy_columns

        return energy_columns()

    def use_samples(self, x: np.ndarray) -> None:
        """Read statistics of every sample of ``x`` (the training set, dense first layer), computed once."""
        self._samples = sample_stats(x)

    def after_step(self, net, trace, deltas, batch=None) -> None:
        """The step's reads; ``batch`` = (xb, idx): its inputs xb = x[idx] of :meth:`use_samples` (a gather)."""
        first, samples = None, getattr(self, "_samples", None)
        if batch is not None and samples is not None and trace.inputs[0] is batch[0]:
            nnz, s_abs, s_sq = (a.take(batch[1]) for a in samples)
            first = (int(batch[1].size), int(round(float(nnz.sum()))), float(s_abs.sum()), float(s_sq.sum()))
        self.counters.record_passes(net, trace, deltas, first)

    def epoch_metrics(self, out_dir, epoch: int) -> dict:
        per_layer = self.counters.since_mark()
        self.counters.mark()
        for k, c in enumerate(per_layer):
            n_out, n_cols = self.counters.shapes[k]
            self._rows.append({"epoch": int(epoch), "layer": k, "n_out": n_out, "n_cols": n_cols,
                               "devices_per_pulse": self.counters.devices_per_pulse[k], **c})
        write_counters_csv(Path(out_dir) / "counters.csv", self._rows)
        out = {}
        summary = {"rule": self.rule_name, "epochs": int(epoch), "totals": self.counters.summed(),
                   "layers": self.counters.totals(), "shapes": [list(s) for s in self.counters.shapes]}
        if self.energy_model is not None:
            est = self.energy_model.estimate(per_layer, self.counters.shapes, self.counters.devices_per_pulse)
            out.update({f"energy_{p}": est[p] for p in (*ENERGY_PARTS, "total_j")})
            run = self.energy_model.estimate(self.counters.totals(), self.counters.shapes,
                                             self.counters.devices_per_pulse)
            summary["energy_j"] = {p: run[p] for p in (*ENERGY_PARTS, "total_j")}
            summary["energy_table"] = self.energy_source
        (Path(out_dir) / "operations.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        return out

    def state_dict(self) -> dict:
        return {"counters": self.counters.state_dict(), "rows": [dict(r) for r in self._rows],
                "energy_source": self.energy_source or ""}

    def load_state_dict(self, state: dict) -> None:
        self.counters.load_state_dict(state["counters"])
        self._rows = [dict(r) for r in state["rows"]]


ENERGY_PARTS = ("forward_read_j", "backward_read_j", "update_j", "adc_j", "digital_update_j")
COUNTER_CSV_COLUMNS = ("epoch", "layer", "n_out", "n_cols", "devices_per_pulse", *FIELDS)


def write_counters_csv(path, rows: list[dict]) -> Path:
    """counters.csv: one row per (epoch, layer) with the layer's shape and every counter field."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COUNTER_CSV_COLUMNS)
        for r in rows:
            w.writerow([repr(float(r[c])) if isinstance(r[c], float) else r[c] for c in COUNTER_CSV_COLUMNS])
    return path


__all__ = ["FIELDS", "OpCounters", "RunAccounting", "read_counters_csv", "record_array_pulses",
           "record_outer", "record_programmed", "record_reads", "train_hook", "write_counters_csv"]
