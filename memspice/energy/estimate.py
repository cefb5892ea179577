"""Energy of a training run from its operation counters and a measured energy table.

For layer k with a tile of n_out x n_cols weights (inputs on the n_cols rows,
outputs on the n_out columns), each weight a pair of devices in two arrays:

forward reads (table entries direction = "forward")
    analog:     2·n_out·(a1·Σ|u| + a2·Σu²), with e_cell(u) = a1·u + a2·u² the
                least-squares fit of the table's per-cell energies over its DAC
                levels u (an ohmic cell gives a1 = 0, a2 = V²·G·t);
    binary:     2·n_out·e_cell(1)·(driven rows);
    stochastic: 2·n_out·e_bit·BL·Σ|u| (a row fires in BL·|u| of the BL bit
                slots on average; e_bit is the energy of one slot's read);
backward reads the same with n_cols cells per driven line and the
    "backward" entries (the transposed array);
updates (table entries kind = "pulse")
    coincidence trains (a V/2 scheme by construction: rows +V/2, columns −V/2):
        d·(E_sel·coincidences + E_half·half_selected);
    count matrices programmed cell by cell, one pulse at a time with the
    chosen scheme (our reading: serial programming; row-parallel programming
    would share the half-select energy among a row's cells):
        d·cell_pulses·(E_sel + (R+C−2)·E_half + (R−1)(C−1)·E_unsel), R = n_cols, C = n_out;
    with d = devices one count moves (2 push-pull, 1 unipolar);
digital overhead
    ADC conversions·E_adc + MACs·E_mac + accumulator writes·E_acc
    (:class:`DigitalCosts`, set by the user).

Per-cell table energies are used as measured: measure the table on a crossbar
whose states (conductances) and pulse shapes match the ones trained.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from memspice.energy.table import EnergyTable
from memspice.errors import DataError, ParameterError

ENCODINGS = ("analog", "binary", "stochastic")
PARTS = ("forward_read_j", "backward_read_j", "update_j", "adc_j", "digital_update_j")


@dataclass(frozen=True)
class DigitalCosts:
    """Energies of the digital periphery (J per operation); set them for your technology.

    Defaults: ``mac_j`` and ``accumulator_update_j`` are the 45 nm figures of
    M. Horowitz, "Computing's energy problem", ISSCC 2014 (32-bit float
    multiply 3.7 pJ + add 0.9 pJ; add 0.9 pJ), memory access not included.
    ``adc_conversion_j`` has no default worth citing: 1 pJ is a placeholder
    (an 8-bit SAR ADC of the 2010s is 0.1–10 pJ per conversion).
    """

    adc_conversion_j: float = 1e-12
    mac_j: float = 4.6e-12
    accumulator_update_j: float = 0.9e-12

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not np.isfinite(value) or value < 0:
                raise ParameterError(f"{name} = {value!r}: give an energy in J, >= 0")


@dataclass(frozen=True)
class EnergyModel:
    """How a run's operations turn into joules (module docstring)."""

    table: EnergyTable
    forward_encoding: str = "analog"  #: "analog" (DAC level), "binary" or "stochastic" (bit stream)
    backward_encoding: str = "analog"
    bl: int = 10  #: bit-stream length of the stochastic encoding
    write_scheme: str = "v/2"  #: scheme of cell-by-cell programming: "v/2" or "v/3"
    write_voltage_v: float | None = None  #: pulse amplitude to take from the table (None: the only one)
    digital: DigitalCosts = DigitalCosts()

    def __post_init__(self):
        for name in ("forward_encoding", "backward_encoding"):
            if getattr(self, name) not in ENCODINGS:
                raise ParameterError(f"{name} = {getattr(self, name)!r}: choose one of {', '.join(ENCODINGS)}")
        if self.write_scheme not in ("v/2", "v/3"):
            raise ParameterError(f"write_scheme = {self.write_scheme!r}: choose v/2 or v/3")
        if int(self.bl) != self.bl or self.bl < 1:
            raise ParameterError(f"bl = {self.bl!r}: the bit-stream length is an integer >= 1")

    # -- per-cell energies from the table ----------------------------------------------

    def read_cell_coefficients(self, direction: str) -> tuple[float, float]:
        """(a1, a2) of e_cell(u) = a1·u + a2·u² fitted to the table's analog levels (J)."""
        entries = self.table.select(kind="read", direction=direction, encoding="analog")
        if not entries:
            raise DataError(f"the energy table has no analog {direction} reads; measure it with backward reads on")
        u = np.array([e.level for e in entries])
        e = np.array([e.per_cell_j for e in entries])
        if u.size == 1:
            return 0.0, float(e[0] / u[0] ** 2)
        (a1, a2), *_ = np.linalg.lstsq(np.stack([u, u * u], axis=1), e, rcond=None)
        return float(a1), float(a2)

    def read_cell_j(self, direction: str, encoding: str) -> float:
        """Energy of one cell in one full-scale (binary) read or one stochastic bit slot (J)."""
        return self.table.one(kind="read", direction=direction, encoding=encoding).per_cell_j

    def pulse_energies(self, scheme: str) -> tuple[float, float, float]:
        """(selected, half-selected, unselected) cell energy of one pulse of ``scheme`` (J)."""
        entries = self.table.select(kind="pulse", scheme=scheme)
        if self.write_voltage_v is not None:
            entries = [e for e in entries if e.voltage_v == self.write_voltage_v]
        if len(entries) != 1:
            amps = sorted({e.voltage_v for e in self.table.select(kind="pulse", scheme=scheme)})
            raise DataError(
                f"the energy table has {len(entries)} {scheme} pulse entries for write_voltage_v = "
                f"{self.write_voltage_v!r}; its amplitudes are {amps}: choose one"
            )
        e = entries[0]
        return e.per_cell_j, e.half_selected_j, e.unselected_j

    # -- estimates ------------------------------------------------------------------------

    def _read_j(self, c: dict, direction: str, encoding: str, cells_per_line: int) -> float:
        d = direction
        if encoding == "analog":
            a1, a2 = self.read_cell_coefficients(d)
            per_array = a1 * c[f"{d}_sum_abs"] + a2 * c[f"{d}_sum_sq"]
        elif encoding == "binary":
            per_array = self.read_cell_j(d, "binary") * c[f"{d}_rows"]
        else:
            per_array = self.read_cell_j(d, "stochastic") * self.bl * c[f"{d}_sum_abs"]
        return 2.0 * cells_per_line * per_array  # two arrays: G+ and G-

    def layer_energy(self, counts: dict, shape: tuple[int, int], devices_per_pulse: int = 2) -> dict:
        """Energy (J) of one layer's counts (a dict of :data:`memspice.learn.counters.FIELDS`) by part."""
        n_out, n_cols = shape
        fwd = self._read_j(counts, "forward", self.forward_encoding, n_out)
        bwd = self._read_j(counts, "backward", self.backward_encoding, n_cols) if counts["backward_reads"] else 0.0
        update = 0.0
        if counts["slots"]:
            e_sel, e_half, _ = self.pulse_energies("v/2")
            update += devices_per_pulse * (e_sel * counts["coincidences"] + e_half * counts["half_selected"])
        if counts["cell_pulses"]:
            e_sel, e_half, e_un = self.pulse_energies(self.write_scheme)
            r, c = n_cols, n_out
            per_pulse = e_sel + (r + c - 2) * e_half + (r - 1) * (c - 1) * e_un
            update += devices_per_pulse * counts["cell_pulses"] * per_pulse
        dc = self.digital
        adc = dc.adc_conversion_j * (counts["forward_conversions"] + counts["backward_conversions"])
        digital = dc.mac_j * counts["digital_macs"] + dc.accumulator_update_j * counts["accumulator_updates"]
        macs = counts["forward_reads"] * n_out * n_cols
        return {
            "forward_read_j": fwd, "backward_read_j": bwd, "update_j": update, "adc_j": adc,
            "digital_update_j": digital, "total_j": fwd + bwd + update + adc + digital,
            "forward_j_per_mac": fwd / macs if macs else float("nan"),
        }

    def estimate(self, per_layer: list[dict], shapes, devices_per_pulse=None) -> dict:
        """Energy by part summed over layers, plus ``layers``: the per-layer breakdowns."""
        devices_per_pulse = [2] * len(shapes) if devices_per_pulse is None else devices_per_pulse
        layers = [self.layer_energy(c, s, d) for c, s, d in zip(per_layer, shapes, devices_per_pulse)]
        out = {p: float(sum(x[p] for x in layers)) for p in (*PARTS, "total_j")}
        macs = sum(c["forward_reads"] * s[0] * s[1] for c, s in zip(per_layer, shapes))
        out["forward_j_per_mac"] = out["forward_read_j"] / macs if macs else float("nan")
        out["layers"] = layers
        return out


def energy_columns(prefix: str = "energy_") -> tuple[str, ...]:
    """Metric-CSV columns of an estimate: energy_forward_read_j, ..., energy_total_j."""
    return tuple(prefix + p for p in (*PARTS, "total_j"))


def write_estimate_csv(path: str | Path, rows: list[dict]) -> Path:
    """One row per epoch: ``epoch`` and the :func:`energy_columns` (what :func:`estimate_run` returns)."""
    path = Path(path)
    cols = ("epoch", *energy_columns())
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items() if k in cols})
    return path
