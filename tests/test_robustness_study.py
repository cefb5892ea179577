"""The Babu et al. study files: every sweep point is the device the study means (dynamic range, levels)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from memspice.sweep.spec import load_sweep

STUDIES = Path(__file__).resolve().parents[1] / "examples" / "studies"


def _generator():
    spec = importlib.util.spec_from_file_location("make_babu_study", STUDIES / "make_babu_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("stem, which", [("babu_fashion_sweep", "FULL"), ("babu_fashion_quick", "QUICK")])
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
