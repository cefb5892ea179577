"""Inference robustness sweeps: perturbations with known statistics, monotone curves, the FP reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.cli import main
from memspice.errors import ParameterError
from memspice.learn.layers import FloatDense
from memspice.learn.metrics import accuracy
from memspice.learn.network import Network
from memspice.learn.robustness import (
    RobustnessSettings,
    deploy_on_tiles,
    perturb_inputs,
    perturb_network,
    robustness_sweep,
)
from memspice.surrogate import ConstantStep, TileConfig


def test_gaussian_and_salt_pepper_statistics(rng):
    x = np.full((400, 50), 0.5)
    y, at_bound = perturb_inputs(x, "gaussian", 0.1, rng)
    # σ = 0.1 around 0.5: the bounds 0 and 1 are 5σ away, P(|ξ| > 5) = 5.7e-7 -> essentially none clipped
    assert np.std(y - x) == pytest.approx(0.1, rel=0.02)  # 20 000 draws: std of the std estimate 0.5 %
    assert at_bound <= 2
    _, at_bound = perturb_inputs(x, "gaussian", 1.0, rng)
    # σ = 1: P(|ξ| > 0.5) = 61.7 % of the inputs leave [0, 1] and are counted
    assert at_bound / x.size == pytest.approx(0.617, abs=0.015)
    y, _ = perturb_inputs(x, "salt_pepper", 0.2, rng)
    hit = y != 0.5
    assert hit.mean() == pytest.approx(0.2, abs=0.01)  # binomial std sqrt(.2·.8/20000) = 0.3 %
    assert (y[hit] == 1.0).mean() == pytest.approx(0.5, abs=0.03)  # salt and pepper equally often


def _blobs(rng, n=600, d=16, k=4):
    """k Gaussian clusters in [0, 1]^d, and a linear classifier that separates them (its weights by hand)."""
    centres = rng.uniform(0.2, 0.8, size=(k, d))
    labels = rng.integers(0, k, size=n)
    x = np.clip(centres[labels] + 0.05 * rng.standard_normal((n, d)), 0.0, 1.0)
    # nearest-centre classifier as one linear layer: z_c = 2 c·x - |c|²
    w = 2 * centres
    b = -np.sum(centres**2, axis=1)
    return x, labels, Network([FloatDense(w, b)], "sigmoid")


def _analog(net, rng):
    config = TileConfig(device=ConstantStep(g_min_s=1e-6, g_max_s=1e-4, dg_up_s=1e-8, dg_down_s=1e-8))
    return deploy_on_tiles(net, net_like(config, net, rng), rng)


def net_like(config, net, rng):
    from memspice.learn.layers import AnalogDense
    from memspice.surrogate import AnalogTile

    return Network([AnalogDense(AnalogTile(w.shape[0], w.shape[1] + 1, config, rng)) for w, _ in net.weights()],
                   net.activation.name)


def test_clean_points_equal_the_networks_own_accuracy_and_curves_fall(rng):
    x, y, fp = _blobs(rng)
    analog = _analog(fp, rng)
    clean = accuracy(analog.predict_proba(x), y)
    assert clean > 0.95  # well-separated clusters: the nearest-centre rule is almost always right
    # levels up to where accuracy is about half-way to chance (deeper, every curve is flat at chance and
    # only sampling noise orders its points)
    settings = RobustnessSettings(levels={"gaussian": (0.0, 0.1, 0.3, 1.0), "read_noise": (0.0, 0.01, 0.03, 0.1),
                                          "d2d": (0.0, 0.01, 0.03, 0.1)}, repeats=2)
    points = robustness_sweep(analog, x, y, settings, rng, reference=fp)
    by = {(p.perturbation, p.level, p.network): p.accuracy for p in points}
    for kind in ("gaussian", "read_noise", "d2d"):
        # level 0 is the unperturbed network: exactly its accuracy
        assert by[(kind, 0.0, "evaluated")] == clean
        accs = [by[(kind, lv, "evaluated")] for lv in settings.levels[kind]]
        # more noise never helps beyond sampling noise (600 samples: 2 points = 1.2 sigma at 95 %)
        assert all(b <= a + 0.02 for a, b in zip(accs, accs[1:])), (kind, accs)
        assert accs[-1] < clean - 0.1  # and the largest level costs accuracy
    # the FP reference at level 0 is the float network's own accuracy
    assert by[("gaussian", 0.0, "reference")] == accuracy(fp.predict_proba(x), y)
    # input noise far beyond the cluster spread drives the classifier towards chance (1/4)
    assert by[("gaussian", 1.0, "reference")] < 0.6


def test_drift_scales_every_weight_by_the_power_law(rng):
    x, y, fp = _blobs(rng, n=50)
    analog = _analog(fp, rng)
    settings = RobustnessSettings(levels={"drift": (1e4,)}, drift_nu=0.05)
    drifted, _ = perturb_network(analog, "drift", 1e4, rng, settings)
    # G(t) = G(t0) (t/t0)^-ν with t0 = 1 s: both devices of a pair shrink alike, so W shrinks by 1e4^-0.05
    factor = 1e4 ** -0.05
    w0 = analog.layers[0].tile.get_weights()
    w1 = drifted.layers[0].tile.effective_weights()
    assert np.allclose(w1, factor * w0, rtol=1e-12, atol=1e-15)
    assert np.array_equal(analog.layers[0].tile.effective_weights(), w0)  # the original is untouched


def test_d2d_variation_has_the_requested_spread(rng):
    x, y, fp = _blobs(rng, n=50, d=40, k=10)
    analog = _analog(fp, rng)
    settings = RobustnessSettings(levels={"d2d": (0.1,)})
    varied, floored = perturb_network(analog, "d2d", 0.1, rng, settings)
    t0, t1 = analog.layers[0].tile, varied.layers[0].tile
    ratio = np.concatenate([(t1.g_plus / t0.g_plus).ravel(), (t1.g_minus / t0.g_minus).ravel()])
    assert np.std(ratio) == pytest.approx(0.1, rel=0.1)  # 820 devices: std of the estimate ~2.5 %
    assert floored == 0  # 10 σ from zero


def test_evaluate_cli_on_a_trained_checkpoint(tmp_path, capsys):
    from memspice.learn.config import config_from_dict
    from memspice.learn.trainer import train

    doc = {"seed": 2, "data": {"name": "digits", "max_train": 300}, "network": {"sizes": [64, 16, 10]},
           "training": {"epochs": 2, "batch_size": 16},
           "rule": {"name": "stochastic-coincidence", "learning_rate": 0.5, "bl": 10},
           "tile": {"device": "ConstantStep", "device_params": {"g_min_s": 1e-6, "g_max_s": 15e-6,
                                                                  "dg_up_s": 4.375e-7, "dg_down_s": 4.375e-7}}}
    result = train(config_from_dict(doc), tmp_path / "run", progress=False)
    args = ["evaluate", str(tmp_path / "run" / "checkpoints" / "last.npz"), "--gaussian", "0,0.3",
            "--salt-pepper", "", "--read-noise", "0,0.5", "--drift", "", "--d2d", "", "--repeats", "1", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    pts = {(p["perturbation"], p["level"], p["network"]): p["accuracy"] for p in doc["points"]}
    # the clean point reproduces the trainer's final test accuracy: same test split, same weights, ideal reads
    assert pts[("gaussian", 0.0, "evaluated")] == result.test_accuracy
    assert pts[("read_noise", 0.0, "evaluated")] == result.test_accuracy
    # the FP copy of the same weights classifies exactly alike when nothing is perturbed
    assert pts[("gaussian", 0.0, "reference")] == result.test_accuracy
    assert (tmp_path / "run" / "robustness.csv").is_file() and (tmp_path / "run" / "robustness.png").is_file()


# --- CNN checkpoints (Conv2d layers): copies and redeployments keep the architecture -------------------------------

def _train_example_cnn(example: str, out, **tile):
    """Train examples/<example>.toml for 2 epochs (all of digits' 1293 training images, ~1 s) into ``out``.

    ``tile``: keys to override in [tile] (e.g. read_preset = "ReadConfig" for ideal reads).
    Returns (checkpoint path, the trainer's final test accuracy read from metrics.csv).
    """
    import tomllib
    from pathlib import Path

    from memspice.learn.config import config_from_dict
    from memspice.learn.metrics import read_csv
    from memspice.learn.trainer import train

    doc = tomllib.loads((Path(__file__).resolve().parents[1] / "examples" / f"{example}.toml").read_text())
    doc["training"]["epochs"] = 2
    if tile:
        doc["tile"] = {**doc["tile"], **tile}
    train(config_from_dict(doc), out, progress=False)
    return out / "checkpoints" / "last.npz", float(read_csv(out / "metrics.csv")[-1]["test_accuracy"])


@pytest.fixture(scope="module")
def sgd_cnn(tmp_path_factory):
    return _train_example_cnn("digits_cnn_sgd", tmp_path_factory.mktemp("cnn") / "sgd")


@pytest.fixture(scope="module")
def mp_cnn(tmp_path_factory):
    # ideal reads (the example's PCM read noise off): a read is then deterministic, so the clean accuracy of the
    # checkpoint can be compared exactly with the trainer's, whose noisy draws are not stored in the checkpoint
    return _train_example_cnn("digits_cnn_mixed_precision", tmp_path_factory.mktemp("cnn") / "mp",
                              read_preset="ReadConfig")


def _top2_gap(probs: np.ndarray) -> float:
    """Smallest gap between the largest and second-largest class probability over the samples."""
    top = np.sort(probs, axis=1)
    return float(np.min(top[:, -1] - top[:, -2]))


def test_evaluate_fp_cnn_checkpoint_keeps_the_conv_layer(sgd_cnn):
    from memspice.learn import Conv2d
    from memspice.learn.robustness import checkpoint_test_split, float_copy, load_checkpoint_network

    path, trainer_acc = sgd_cnn
    net, config, _ = load_checkpoint_network(path)
    test = checkpoint_test_split(config)
    copy = float_copy(net)
    assert isinstance(copy.layers[0], Conv2d) and copy.layers[0].kind == "float"
    assert (copy.layers[0].in_shape, copy.layers[0].kernel, copy.layers[0].filters) == ((1, 8, 8), 3, 8)
    settings = RobustnessSettings(levels={"gaussian": (0.0, 0.3), "salt_pepper": (0.0, 0.2)}, repeats=1)
    points = robustness_sweep(net, test.x, test.y, settings, np.random.default_rng(5))
    by = {(p.perturbation, p.level, p.network): p.accuracy for p in points}
    assert trainer_acc > 0.8  # two epochs of the example reach ~94 %: the network classifies, so the check bites
    for kind in ("gaussian", "salt_pepper"):
        # level 0: the same weights on the same 359 test images as the trainer's last evaluation -> bit-identical
        assert by[(kind, 0.0, "evaluated")] == trainer_acc
        # the FP copy of a FP network does the same float operations in the same order -> bit-identical too
        assert by[(kind, 0.0, "reference")] == trainer_acc
    # device perturbations need tiles: a clear error, not a crash deep in the layers
    with pytest.raises(ParameterError, match="sweep only gaussian and salt_pepper"):
        robustness_sweep(net, test.x, test.y, RobustnessSettings(levels={"d2d": (0.1,)}), np.random.default_rng(5))


def test_fp_copy_of_the_analog_cnn_predicts_as_the_analog_cnn(mp_cnn, rng):
    from memspice.learn import Conv2d
    from memspice.learn.robustness import checkpoint_test_split, float_copy, load_checkpoint_network

    path, trainer_acc = mp_cnn
    net, config, _ = load_checkpoint_network(path)
    assert [type(layer).__name__ for layer in net.layers] == ["Conv2d", "AnalogDense"] and net.kind == "analog"
    x = checkpoint_test_split(config).x.astype(np.float64)  # float64 reads (float32 data would read in float32)
    fp = float_copy(net)
    assert isinstance(fp.layers[0], Conv2d) and fp.kind == "float"
    p_analog, p_fp = net.predict_proba(x), fp.predict_proba(x)
    # With ideal reads the tile computes s·([patch, 1]·W_tileᵀ) and the copy patch·(s·W)ᵀ + s·b: the same
    # sums in float64, apart from rounding (~1e-13 absolute on logits of order 10). Every sample's top-2
    # probability gap is far above that, so no argmax can flip: the predictions must agree on 100 % of the
    # test images (a tolerance would only hide a wrong filter layout or bias column).
    assert _top2_gap(p_fp) > 1e-9
    assert np.array_equal(np.argmax(p_analog, axis=1), np.argmax(p_fp, axis=1))
    assert np.max(np.abs(p_analog - p_fp)) < 1e-10
    # redeployed on tiles configured like the checkpoint's: the same architecture and (to rounding) the same weights
    deployed = deploy_on_tiles(fp, net, rng)
    assert isinstance(deployed.layers[0], Conv2d) and deployed.kind == "analog"
    for (w0, b0), (w1, b1) in zip(net.weights(), deployed.weights()):
        np.testing.assert_allclose(w1, w0, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b1, b0, rtol=1e-12, atol=1e-12)
    # a reference of another architecture (the MLP of the same sizes) is refused with a clear message
    mlp = Network([FloatDense(np.zeros((10, 64)))], "sigmoid")
    with pytest.raises(ParameterError, match="same architecture"):
        robustness_sweep(net, x, np.zeros(len(x), dtype=int), RobustnessSettings(levels={"gaussian": (0.0,)}),
                         rng, reference=mlp)


def test_evaluate_cli_on_an_analog_cnn_checkpoint_every_perturbation(mp_cnn, capsys):
    from memspice.learn.robustness import checkpoint_test_split, float_copy, load_checkpoint_network

    path, trainer_acc = mp_cnn
    args = ["evaluate", str(path), "--gaussian", "0,0.3", "--salt-pepper", "0,0.2", "--read-noise", "0,0.2",
            "--drift", "0,1e6", "--drift-nu", "0.1", "--d2d", "0,0.2", "--repeats", "1", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    pts = {(p["perturbation"], p["level"], p["network"]): p["accuracy"] for p in doc["points"]}
    assert {k for k, _, _ in pts} == {"gaussian", "salt_pepper", "read_noise", "drift", "d2d"}
    assert trainer_acc > 0.8  # ~91 % after two epochs
    for kind in ("gaussian", "salt_pepper", "read_noise", "drift", "d2d"):
        # level 0 of every kind is the unperturbed network with ideal reads (read noise 0; drift after 0 s, i.e.
        # before t0 = 1 s: factor 1; d2d factor 1 + 0·ξ = 1): exactly the trainer's final test accuracy
        assert pts[(kind, 0.0, "evaluated")] == trainer_acc, kind
        # the reference (FP copy; for device kinds redeployed on tiles) predicts alike up to rounding, and no test
        # image is within rounding of a tie (previous test): the same accuracy exactly
        assert pts[(kind, 0.0, "reference")] == trainer_acc, kind
    # drift without device-to-device spread scales both conductances of every pair, hence every weight and bias of
    # the conv and the dense layer, by (t/t0)^-ν = (1e6)^-0.1 = 0.251 (power law G(t) = G(t0)(t/t0)^-ν): the FP
    # network with its weights scaled so gives the drifted accuracy (to one test image: rounding at a near-tie)
    net, config, _ = load_checkpoint_network(path)
    test = checkpoint_test_split(config)
    fp = float_copy(net)
    f = 1e6 ** -0.1
    for layer in fp.layers:
        layer.w *= f
        layer.b *= f
    expected = accuracy(fp.predict_proba(test.x), test.y)
    assert abs(pts[("drift", 1e6, "evaluated")] - expected) <= 1 / len(test.y) + 1e-12
    # the scaled network really classifies worse (its sigmoids flatten: ~61 % here), so the check bites
    assert expected < trainer_acc - 0.1
