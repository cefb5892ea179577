"""The Babu et al. study files: every sweep point is the device the study means (dynamic range, levels)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from memspice.sweep.spec import load_sweep

STUDIES = Path(__file__).resolve().parents[1] / "examples" / "studies"


def _generator():
    spec = importlib.util.spec_from_file_location("make_babu_study", STUDIES / "make_babu_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _heatmap():
    spec = importlib.util.spec_from_file_location("babu_heatmap", STUDIES / "babu_heatmap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("stem, which", [("babu_fashion_sweep", "FULL"), ("babu_fashion_quick", "QUICK"),
                                         ("babu_fashion_medium", "MEDIUM")])
def test_study_points_cover_the_requested_devices(stem, which):
    gen = _generator()
    spec = getattr(gen, which)
    # the committed file is what the generator writes (regenerate with make_babu_study.py)
    doc = gen.sweep_document(spec, stem, f"{stem}.csv")
    import tomli_w

    assert tomli_w.dumps(doc) in (STUDIES / f"{stem}.toml").read_text()
    sweep = load_sweep(STUDIES / f"{stem}.toml")
    n = len(spec["dynamic_range"]) * len(spec["levels"]) * len(spec["variability"])
    assert len(sweep.points) == n
    seen = set()
    for p in sweep.points:
        q = p.params
        g_max = q["tile.device_params.g_max_s"]
        assert q["tile.mapping.g_max_s"] == g_max  # weights span the device's whole range
        dr = g_max / gen.G_MIN_S
        levels = (g_max - gen.G_MIN_S) / q["tile.device_params.dg_up_s"]
        assert q["tile.device_params.dg_down_s"] == q["tile.device_params.dg_up_s"]  # symmetric steps
        seen.add((round(dr, 9), round(levels, 6), q["tile.device_params.c2c_rel"]))
    want = {(float(d), float(v), c) for d in spec["dynamic_range"] for v in spec["levels"] for c in spec["variability"]}
    assert seen == want


def test_medium_study_is_the_full_grid_at_the_quick_scale():
    gen = _generator()
    for axis in ("dynamic_range", "levels", "variability"):
        assert gen.MEDIUM[axis] == gen.FULL[axis]
    assert gen.MEDIUM["overrides"] == gen.QUICK["overrides"]
    # 6 dynamic ranges x 6 level counts x 5 variabilities, as the study's brief asks
    assert len(load_sweep(STUDIES / "babu_fashion_medium.toml").points) == 6 * 6 * 5


def test_fp_baseline_trains_the_same_network_on_the_same_data_as_the_study():
    from memspice.sweep.tasks import TASKS

    task = TASKS["train"]
    fp_sweep = load_sweep(STUDIES / "babu_fashion_small_fp.toml")
    assert len(fp_sweep.points) == 1
    fp = task.config(fp_sweep.points[0].params, fp_sweep.base_dir)
    study_sweep = load_sweep(STUDIES / "babu_fashion_medium.toml")
    study = task.config(study_sweep.points[0].params, study_sweep.base_dir)
    # the baseline differs from a study point in the rule (and its tile) alone: same seed, data subset,
    # sizes, activation, epochs, batch and constant learning rate (babu_fashion_base.toml has no decay)
    assert fp.rule.name == "sgd" and study.rule.name == "stochastic-coincidence"
    assert fp.seed == study.seed
    assert fp.data == study.data
    assert fp.training == study.training
    assert fp.training.learning_rate_decay == 1.0
    assert list(fp.network.sizes) == list(study.network.sizes) == [784, 64, 10]
    assert fp.network.activation == study.network.activation
    assert fp.rule.learning_rate == study.rule.learning_rate


def test_heatmap_grid_puts_every_point_in_its_cell():
    hm = _heatmap()
    sweep = load_sweep(STUDIES / "babu_fashion_medium.toml")

    def acc(dr, levels, var):  # a made-up accuracy that tells every (dr, levels, var) apart
        return 0.001 * dr + 0.00001 * levels + var

    rows = []
    for p in sweep.points:
        q = p.params
        dr = q["tile.device_params.g_max_s"] / hm.G_MIN_S
        levels = (q["tile.device_params.g_max_s"] - hm.G_MIN_S) / q["tile.device_params.dg_up_s"]
        rows.append({**q, "status": "ok", "test_accuracy": acc(dr, levels, q["tile.device_params.c2c_rel"])})
    rows.append({**rows[0], "status": "error", "test_accuracy": None})  # failed points are left out
    drs, lvs, vs, table = hm.grid(rows)
    assert list(drs) == [5, 10, 15, 25, 50, 100] and list(lvs) == [8, 16, 32, 64, 128, 256]
    assert list(vs) == [0.0, 0.1, 0.2, 0.3, 0.5]
    want = np.array([[[acc(d, n, v) for n in lvs] for d in drs] for v in vs])
    np.testing.assert_allclose(table, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cells, perimeter", [
    ([(1, 1)], 4),                          # one cell: its 4 edges
    ([(0, 0), (0, 1), (1, 0), (1, 1)], 8),  # a 2 x 2 block in the corner: 8 unit edges, 4 along the border
    ([(0, 0), (1, 1)], 8),                  # diagonal neighbours share no edge
    ([(i, j) for i in range(3) for j in range(3)], 12),  # the whole 3 x 3 grid: its border
])
def test_outline_is_the_perimeter_of_the_region(cells, perimeter):
    hm = _heatmap()
    inside = np.zeros((3, 3), bool)
    for c in cells:
        inside[c] = True
    segs = hm.outline_segments(inside)
    # reference: perimeter of the region counted by hand, in unit cell edges, each drawn once
    assert len(segs) == perimeter
    assert len({tuple(sorted(s)) for s in segs}) == perimeter
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1.0 for a, b in segs)
