"""The validation of one update: ngspice next to the surrogate, cell by cell, and the figures of merit.

Conductances are the devices' chord conductances at the model's read voltage
(``model.conductance(x)``), the quantity the surrogate tracks; ΔG is after
minus before. Figures (all over the programmed cells unless said otherwise):

``dg_rms_error_s``     RMS of ΔG_surrogate − ΔG_spice (S)
``dg_rel_rms_error``   that RMS divided by the RMS of ΔG_spice: 0.02 = "within 2 % RMS"
``dg_max_error_s``     largest |ΔG_surrogate − ΔG_spice| (S)
``disturb_ratio_spice`` / ``disturb_ratio_surrogate``
                       largest |ΔG| of a half-selected cell divided by the mean
                       |ΔG| of the programmed cells (0.01 = 1 %)
``disturb_rel_rms_error``
                       RMS of ΔG_surrogate − ΔG_spice over the half-selected
                       cells divided by the RMS of their ΔG_spice (NaN when
                       that is round-off)
``ir_loss_worst``      largest 1 − v_device/v_nominal of a programmed cell at the
                       middle of one of its full-amplitude pulses (the share
                       of the write voltage lost in wires and drivers);
                       ``ir_loss_surrogate_worst`` the same in the surrogate's
                       own solve of the array (0 for a wire-blind surrogate)
``energy_total_j``     Σ over sources of ∫ v·i dt (J)
``energy_per_cell_j``  total / number of programmed cells

Round-off: a ΔG of ngspice below ``dg_floor_s`` (1e-9 of the largest
conductance before the update) is the integrator's rounding, not a change
(cells below a threshold). Ratios against such a ΔG are not reported (NaN,
with ``dg_spice_is_roundoff`` true); the absolute errors stand.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memspice.config import to_jsonable

__all__ = ["UpdateValidation"]


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a)))) if a.size else float("nan")


@dataclass(frozen=True, eq=False)
class UpdateValidation:
    """Per-cell conductances before/after in ngspice and in the surrogate, and what they say."""

    description: str  #: crossbar and schedule in words
    g_before_s: np.ndarray  #: (rows, cols)
    g_spice_s: np.ndarray  #: (rows, cols) after the update, ngspice
    g_surrogate_s: np.ndarray  #: (rows, cols) after the update, surrogate
    selected: np.ndarray  #: (rows, cols) bool, programmed cells
    disturbed: np.ndarray  #: (rows, cols) bool, half-selected cells
    ir_loss: np.ndarray  #: (rows, cols) worst IR-drop loss of each programmed cell (NaN elsewhere)
    energy_j: dict  #: per source (J)
    meta: dict = field(default_factory=dict)  #: schedule, surrogate levels, run facts
    ir_loss_surrogate: np.ndarray | None = None  #: (rows, cols) the same loss in the surrogate's voltages

    #: ΔG below this share of the largest conductance before is ngspice's round-off
    ROUNDOFF = 1e-9

    @property
    def dg_floor_s(self) -> float:
        return self.ROUNDOFF * float(np.max(np.abs(self.g_before_s)))

    # ------------------------------------------------------------------ per cell
    @property
    def dg_spice_s(self) -> np.ndarray:
        return self.g_spice_s - self.g_before_s

    @property
    def dg_surrogate_s(self) -> np.ndarray:
        return self.g_surrogate_s - self.g_before_s

    @property
    def dg_error_s(self) -> np.ndarray:
        """ΔG_surrogate − ΔG_spice (S), every cell."""
        return self.g_surrogate_s - self.g_spice_s

    # ------------------------------------------------------------------ figures
    @property
    def n_programmed(self) -> int:
        return int(np.count_nonzero(self.selected))

    @property
    def energy_total_j(self) -> float:
        return float(sum(self.energy_j.values()))

    def figures(self) -> dict:
        sel, dist = self.selected, self.disturbed
        err = self.dg_error_s[sel]
        ref = self.dg_spice_s[sel]
        mean_sel_spice = float(np.mean(np.abs(ref))) if ref.size else float("nan")
        mean_sel_sur = float(np.mean(np.abs(self.dg_surrogate_s[sel]))) if ref.size else float("nan")

        floor = self.dg_floor_s

        def ratio(dg, mean_sel):
            if not dist.any():
                return 0.0
            worst = float(np.max(np.abs(dg[dist])))
            return worst / mean_sel if mean_sel > floor else float("nan")

        rms_ref = _rms(ref)
        roundoff = not rms_ref > floor
        d_err, d_ref = self.dg_error_s[dist], self.dg_spice_s[dist]
        rms_d = _rms(d_ref)
        irs = self.ir_loss_surrogate

        def worst(a):
            return float(np.nanmax(a)) if a is not None and np.any(np.isfinite(a)) else float("nan")

        return {
            "n_programmed": self.n_programmed,
            "n_half_selected": int(np.count_nonzero(dist)),
            "dg_mean_abs_spice_s": mean_sel_spice,
            "dg_mean_abs_surrogate_s": mean_sel_sur,
            "dg_rms_error_s": _rms(err),
            "dg_floor_s": floor,
            "dg_spice_is_roundoff": roundoff,
            "dg_rel_rms_error": float("nan") if roundoff else _rms(err) / rms_ref,
            "dg_max_error_s": float(np.max(np.abs(err))) if err.size else float("nan"),
            "disturb_max_abs_spice_s": float(np.max(np.abs(self.dg_spice_s[dist]))) if dist.any() else 0.0,
            "disturb_max_abs_surrogate_s": float(np.max(np.abs(self.dg_surrogate_s[dist]))) if dist.any() else 0.0,
            "disturb_ratio_spice": ratio(self.dg_spice_s, mean_sel_spice),
            "disturb_ratio_surrogate": ratio(self.dg_surrogate_s, mean_sel_sur),
            "disturb_rms_error_s": _rms(d_err),
            "disturb_rel_rms_error": _rms(d_err) / rms_d if rms_d > floor else float("nan"),
            "ir_loss_worst": float(np.nanmax(self.ir_loss)) if np.any(np.isfinite(self.ir_loss)) else float("nan"),
            "ir_loss_mean": float(np.nanmean(self.ir_loss)) if np.any(np.isfinite(self.ir_loss)) else float("nan"),
            "ir_loss_surrogate_worst": worst(irs),
            "energy_total_j": self.energy_total_j,
            "energy_per_cell_j": self.energy_total_j / self.n_programmed if self.n_programmed else float("nan"),
        }

    # ------------------------------------------------------------------ output
    def to_dict(self, per_cell: bool = True) -> dict:
        doc = {"description": self.description, "figures": self.figures(), "energy_j": dict(self.energy_j),
               **{k: v for k, v in self.meta.items()}}
        if per_cell:
            doc["cells"] = self.cell_rows()
        return doc

    def to_dataframe(self, which: str = "touched"):
        """:meth:`cell_rows` as a pandas DataFrame (``attrs["figures"]``: :meth:`figures`)."""
        from memspice.frames import frame

        return frame(self.cell_rows(which), attrs={"figures": self.figures()})

    def cell_rows(self, which: str = "touched") -> list[dict]:
        """One dict per cell: ``which`` = "touched" (programmed or half-selected) or "all"."""
        rows = []
        keep = np.ones_like(self.selected) if which == "all" else (self.selected | self.disturbed)
        for i, j in np.argwhere(keep):
            role = "programmed" if self.selected[i, j] else "half-selected" if self.disturbed[i, j] else "unselected"
            rows.append({
                "row": int(i), "col": int(j), "role": role,
                "g_before_s": float(self.g_before_s[i, j]),
                "dg_spice_s": float(self.dg_spice_s[i, j]),
                "dg_surrogate_s": float(self.dg_surrogate_s[i, j]),
                "dg_error_s": float(self.dg_error_s[i, j]),
                "ir_loss": float(self.ir_loss[i, j]),
            })
        return rows

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_jsonable(self.to_dict()), indent=2) + "\n", encoding="utf-8")
        return path

    def write_csv(self, path: str | Path) -> Path:
        """Every cell of the array, one row each (floats round-trip exactly)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.cell_rows("all")
        cols = list(rows[0])
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                w.writerow([repr(r[c]) if isinstance(r[c], float) else r[c] for c in cols])
        return path

    def write_heatmaps(self, path: str | Path) -> Path:
        """One PNG with three maps: ΔG in ngspice, in the surrogate, and their difference (µS)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig = Figure(figsize=(13.0, 4.2), dpi=100)
        FigureCanvasAgg(fig)
        maps = [(self.dg_spice_s, "ΔG ngspice"), (self.dg_surrogate_s, "ΔG surrogate"),
                (self.dg_error_s, "surrogate − ngspice")]
        lim = float(max(np.max(np.abs(self.dg_spice_s)), np.max(np.abs(self.dg_surrogate_s)))) * 1e6 or 1.0
        for k, (m, title) in enumerate(maps):
            ax = fig.add_subplot(1, 3, k + 1)
            m_us = m * 1e6
            l = lim if k < 2 else (float(np.max(np.abs(m_us))) or 1.0)
            im = ax.imshow(m_us, cmap="RdBu_r", vmin=-l, vmax=l, interpolation="nearest")
            ys, xs = np.nonzero(self.selected)
            ax.scatter(xs, ys, s=6, marker="s", facecolors="none", edgecolors="k", linewidths=0.5)
            ax.set_title(title + " (µS)")
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            fig.colorbar(im, ax=ax, shrink=0.85)
        fig.suptitle(self.description, fontsize=9)
        fig.tight_layout()
        fig.savefig(path)
        return path

    def table(self) -> list[tuple[str, str]]:
        """(quantity, value) lines for the CLI's summary table."""
        f = self.figures()
        return [
            ("programmed cells", f"{f['n_programmed']}"),
            ("half-selected cells", f"{f['n_half_selected']}"),
            ("mean |ΔG| programmed, ngspice", f"{f['dg_mean_abs_spice_s'] * 1e6:.6g} µS"),
            ("mean |ΔG| programmed, surrogate", f"{f['dg_mean_abs_surrogate_s'] * 1e6:.6g} µS"),
            ("ΔG error surrogate-ngspice, RMS", f"{f['dg_rms_error_s'] * 1e6:.4g} µS " + (
                "(ngspice's ΔG is round-off: no cell switched)" if f["dg_spice_is_roundoff"]
                else f"({100 * f['dg_rel_rms_error']:.3g} % of RMS ΔG)")),
            ("ΔG error, max", f"{f['dg_max_error_s'] * 1e6:.4g} µS"),
            ("half-select disturb, ngspice", f"{100 * f['disturb_ratio_spice']:.3g} % of mean programmed |ΔG|"),
            ("half-select disturb, surrogate", f"{100 * f['disturb_ratio_surrogate']:.3g} %"),
            ("half-select ΔG error, RMS", f"{f['disturb_rms_error_s'] * 1e6:.4g} µS" + (
                "" if np.isnan(f["disturb_rel_rms_error"]) else f" ({100 * f['disturb_rel_rms_error']:.3g} % of RMS disturb)")),
            ("worst IR-drop loss (programmed)", f"{100 * f['ir_loss_worst']:.3g} % of the write voltage"),
            ("worst IR-drop loss, surrogate", f"{100 * f['ir_loss_surrogate_worst']:.3g} %"),
            ("energy, total", f"{f['energy_total_j'] * 1e12:.6g} pJ"),
            ("energy per programmed cell", f"{f['energy_per_cell_j'] * 1e12:.6g} pJ"),
        ]

    def write_outputs(self, out_dir: str | Path, stem: str = "validate") -> dict[str, Path]:
        out_dir = Path(out_dir)
        return {
            "json": self.write_json(out_dir / f"{stem}.json"),
            "csv": self.write_csv(out_dir / f"{stem}-cells.csv"),
            "heatmaps": self.write_heatmaps(out_dir / f"{stem}-heatmaps.png"),
        }
