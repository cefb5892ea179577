"""CNNs from a training config (``[network] conv``): parsing, gradients of every rule, accuracy, resume.

The accuracy tests run the shipped examples/digits_cnn_*.toml, so what a user
runs first is what is tested.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import numpy as np
import pytest

from memspice.errors import ConfigError
from memspice.learn import config_from_dict, load_config, train
from memspice.learn.activations import cross_entropy
from memspice.learn.checkpoint import load_checkpoint
from memspice.learn.config import ConvLayerConfig
from memspice.learn.conv import Conv2d, build_cnn
from memspice.learn.layers import program_weights
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence
from memspice.learn.rules.binary_stochastic import BinaryStochastic
from memspice.learn.rules.cbram_sc import CBRAMStochasticComputing
from memspice.learn.rules.sbe import StreamingBatchEigenupdate
from memspice.learn.rules.tiki_taka import TikiTaka
from memspice.learn.tiles import make_tile, tile_config_from_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# --------------------------------------------------------------------------- config parsing


def _network(**network) -> dict:
    return {"network": {"sizes": [64, 10], **network}}


@pytest.mark.parametrize(
    "network, match",
    [
        ({"conv": [{"filters": 8, "kernal": 3}]},
         r"unknown key\(s\) kernal in \[network.conv\[0\]\]; its keys are: filters, kernel"),
        ({"conv": [{"filters": 8}]}, r"network.conv\[0\] needs kernel"),
        ({"conv": {"filters": 8, "kernel": 3}},
         r"network.conv = .*expected a list of tables, e.g. conv = \[\{filters = 8"),
        ({"conv": [8, 3]}, r"network.conv\[0\] = 8: expected a table"),
        ({"conv": [{"filters": 0, "kernel": 3}]}, r"network.conv\[0\].filters = 0: must be >= 1"),
        ({"conv": [{"filters": 8, "kernel": 2.5}]}, r"network.conv\[0\].kernel = 2.5: expected an integer"),
        # digits images are 8x8: a 9x9 kernel does not fit (valid convolution, no padding)
        ({"conv": [{"filters": 8, "kernel": 9}]},
         r"network.conv\[0\].kernel = 9 is larger than its 8x8 input \(the input image.*use kernel <= 8"),
        # 8x8 -> 5x5 after a 4x4 kernel: a second 6x6 kernel does not fit
        ({"conv": [{"filters": 8, "kernel": 4}, {"filters": 4, "kernel": 6}]},
         r"network.conv\[1\].kernel = 6 is larger than its 5x5 input \(the output of network.conv\[0\].*kernel <= 5"),
        ({"conv": [{"filters": 8, "kernel": 3}], "sizes": [784, 10]},
         r"network.sizes\[0\] = 784, but the 1x8x8 input images have 64 pixels; start sizes with 64"),
        ({"image_shape": [1, 8, 8]}, r"network.image_shape applies only with network.conv"),
        ({"conv": [{"filters": 8, "kernel": 3}], "image_shape": [1, 8, 8]},
         r"network.image_shape applies only to data.name = 'idx'; 'digits' images are 1x8x8: remove it"),
    ],
)
def test_invalid_conv_keys_are_named_with_the_fix(network, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict(_network(**network))


def test_idx_cnn_needs_and_checks_image_shape():
    data = {"name": "idx", "train_images": "a", "train_labels": "b", "test_images": "c", "test_labels": "d"}
    conv = [{"filters": 8, "kernel": 5}]
    with pytest.raises(ConfigError, match=r"data.name = 'idx' needs network.image_shape = \[channels, height, width\]"):
        config_from_dict({"data": data, "network": {"sizes": [784, 10], "conv": conv}})
    with pytest.raises(ConfigError, match=r"network.image_shape = \[28, 28\]: give \[channels, height, width\]"):
        config_from_dict({"data": data, "network": {"sizes": [784, 10], "conv": conv, "image_shape": [28, 28]}})
    with pytest.raises(ConfigError, match=r"the 1x28x28 input images have 784 pixels; start sizes with 784"):
        config_from_dict({"data": data, "network": {"sizes": [1024, 10], "conv": conv, "image_shape": [1, 28, 28]}})
    cfg = config_from_dict({"data": data, "network": {"sizes": [784, 10], "conv": conv, "image_shape": [1, 28, 28]}})
    assert cfg.network.input_shape("idx") == (1, 28, 28)


def test_cnn_config_round_trips_and_an_mlp_dict_is_unchanged():
    # Reference: the TOML-shaped dict a checkpoint stores. A CNN's conv list
    # must load back to the same value (resume compares these dicts); an MLP's
    # [network] dict keeps exactly the keys it had before conv layers existed,
    # so checkpoints written by earlier versions still resume.
    cfg = config_from_dict(_network(conv=[{"filters": 8, "kernel": 3}, {"filters": 4, "kernel": 2}]))
    assert cfg.network.conv == (ConvLayerConfig(8, 3), ConvLayerConfig(4, 2))
    assert cfg.to_dict()["network"]["conv"] == [{"filters": 8, "kernel": 3}, {"filters": 4, "kernel": 2}]
    assert config_from_dict(cfg.to_dict()) == cfg
    assert set(config_from_dict({}).to_dict()["network"]) == {"sizes", "activation"}


# --------------------------------------------------------------------------- gradients


def _fd_grad(f, array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of ``array`` (changed in place, restored)."""
    out = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + h
        up = f()
        array[idx] = old - h
        down = f()
        array[idx] = old
        out[idx] = (up - down) / (2 * h)
    return out


def test_fp_sgd_step_on_a_two_conv_cnn_is_minus_eta_times_the_finite_difference_gradient():
    # Reference: central differences (step 1e-6, accurate to ~1e-9) of the
    # mean cross-entropy of a 1x6x6 -> conv(3, 3x3) -> conv(2, 2x2) -> 18 -> 3
    # CNN with sigmoids between. One FloatSGD step must move every weight and
    # bias by -eta times that gradient: back-propagation through both conv
    # layers (col2im) and their update operands (rows summed over positions).
    rng = np.random.default_rng(7)
    net = build_cnn((1, 6, 6), [(3, 3), (2, 2)], [3], rng)
    for layer in net.layers:
        layer.w = layer.w.astype(np.float64)  # dense layers keep float32; a 1e-6 step needs float64
        layer.b = rng.uniform(-0.3, 0.3, layer.b.shape)
    x = rng.uniform(0.0, 1.0, (4, 36))
    y = np.array([0, 2, 1, 2])

    def loss():
        return cross_entropy(net.predict_proba(x), y)

    grads = [(_fd_grad(loss, layer.w), _fd_grad(loss, layer.b)) for layer in net.layers]
    before = [(layer.w.copy(), layer.b.copy()) for layer in net.layers]
    trace = net.forward_train(x)
    eta = 0.3
    FloatSGD(eta).step(net, trace.inputs, net.backward(trace, y), rng)
    for layer, (w0, b0), (gw, gb) in zip(net.layers, before, grads):
        np.testing.assert_allclose(layer.w - w0, -eta * gw, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.b - b0, -eta * gb, rtol=1e-6, atol=1e-9)


# One small conv layer for the rule checks: 1x5x5 images, 2 filters of 3x3,
# P = 9 positions, B = 2 samples (R = 18 operand rows), tile 2 x 10.
_IDEAL_TILE = {
    "device": "ConstantStep", "pair_scheme": "push_pull",
    "device_params": {"g_min_s": 1e-6, "g_max_s": 15e-6, "dg_up_s": 1e-9, "dg_down_s": 1e-9},
    "mapping": {"g_min_s": 1e-6, "g_max_s": 15e-6, "w_max": 1.0},
}


@pytest.fixture(scope="module")
def conv_case():
    """(x, delta, reference gradient G (2, 10) of the mean over samples, ideal tile config).

    G is the finite-difference gradient of (1/B)·Σ_b δ_b·conv(x_b) with respect
    to [W | b] of a floating-point Conv2d: what a rule's step −η·G must be.
    """
    rng = np.random.default_rng(11)
    x = rng.uniform(0.0, 1.0, (2, 25))
    delta = rng.normal(0.0, 0.1, (2, 2 * 9))
    conv = Conv2d((1, 5, 5), 3, w=rng.normal(size=(2, 9)), b=rng.normal(size=2))

    def objective():
        return float(np.sum(delta * conv.forward(x))) / x.shape[0]

    g = np.concatenate([_fd_grad(objective, conv.w), _fd_grad(objective, conv.b)[:, None]], axis=1)
    return x, delta, g, tile_config_from_table(_IDEAL_TILE)


def _analog_conv(config, rng) -> Conv2d:
    tile = make_tile(2, 10, config, rng)
    program_weights(tile, np.zeros((2, 10)))
    return Conv2d((1, 5, 5), 3, tile=tile)


def _monte_carlo(make_and_step, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over ``n`` runs of ``make_and_step(i) -> ΔW`` (2, 10)."""
    samples = np.stack([make_and_step(i) for i in range(n)])
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(n)


def _assert_unbiased(mean, se, target):
    # 5 standard errors per cell (20 cells: a false alarm has probability ~1e-5),
    # and the whole matrix within 5 % (a step off by the P = 9 positions, or
    # using B instead of the B·P rows, is off by 800 % or 89 %)
    assert np.all(np.abs(mean - target) <= 5.0 * se + 1e-12), (mean, target)
    assert np.linalg.norm(mean - target) <= 0.05 * np.linalg.norm(target)


def test_stochastic_coincidence_programs_the_conv_gradient_in_expectation(conv_case):
    # Reference: the finite-difference gradient G; the expected pulsed change is −η·G
    # (docs/algorithms.md, "Stochastic pulse coincidence": E[n]·Δw_min = −η δ xᵀ) when no probability is clipped.
    x, delta, g, config = conv_case
    dw_min = make_tile(2, 10, config, np.random.default_rng(0)).dw_min
    eta = 4.0 * dw_min / np.abs(g).max()  # at most ~4 pulses per cell and step
    rule_stats = []

    def run(i):
        rng = np.random.default_rng(1000 + i)
        conv = _analog_conv(config, rng)
        rule = StochasticCoincidence(eta, bl=10)
        rule.step(types.SimpleNamespace(layers=[conv]), [x], [delta], rng)
        rule_stats.append(rule.stats()["clipped_probability_fraction"])
        return conv.tile.get_weights()

    mean, se = _monte_carlo(run, 1500)
    assert max(rule_stats) == 0.0
    _assert_unbiased(mean, se, -eta * g)


def test_tiki_taka_fast_tile_gets_the_conv_gradient_in_expectation(conv_case):
    # Reference: G as above; Tiki-Taka's fast tile A takes the pulsed −η·G (no transfer in one step).
    x, delta, g, config = conv_case
    dw_min = make_tile(2, 10, config, np.random.default_rng(0)).dw_min
    eta = 4.0 * dw_min / np.abs(g).max()

    def run(i):
        rng = np.random.default_rng(2000 + i)
        conv = _analog_conv(config, rng)
        rule = TikiTaka(eta, transfer_every=10**6, symmetry_pulses=0)
        rule.step(types.SimpleNamespace(layers=[conv]), [x], [delta], rng)
        return rule.fast_weights()[0]

    mean, se = _monte_carlo(run, 1500)
    _assert_unbiased(mean, se, -eta * g)


def test_cbram_sc_accumulates_the_conv_gradient_in_expectation(conv_case):
    # Reference: G as above. The SC estimate is unbiased (default driver, no
    # rounding); what went to the tile plus what stays in χ is that estimate.
    x, delta, g, config = conv_case
    eta = 0.5

    def run(i):
        rng = np.random.default_rng(3000 + i)
        conv = _analog_conv(config, rng)
        rule = CBRAMStochasticComputing(eta, stream_length=64)
        rule.step(types.SimpleNamespace(layers=[conv]), [x], [delta], rng)
        return conv.tile.get_weights() + rule._chi[0]

    mean, se = _monte_carlo(run, 800)
    _assert_unbiased(mean, se, -eta * g)


def test_mixed_precision_applies_exactly_the_conv_gradient(conv_case):
    # Reference: G as above. Pulses n·ε on the tile plus the accumulator's rest
    # χ are −η·G exactly (ε = Δw_min of the ideal linear device), and at least
    # one pulse fired, so the split between the two is exercised.
    x, delta, g, config = conv_case
    rng = np.random.default_rng(4)
    conv = _analog_conv(config, rng)
    eta = 0.5
    rule = MixedPrecision(eta, refresh_every=0)
    rule.step(types.SimpleNamespace(layers=[conv]), [x], [delta], rng)
    applied = conv.tile.get_weights()
    assert rule.stats()["pulses"] > 0
    np.testing.assert_allclose(applied + rule._chi[0], -eta * g, rtol=1e-6, atol=1e-3 * conv.tile.dw_min)


def test_binary_stochastic_accumulates_the_conv_gradient(conv_case):
    # Reference: G as above. Cells where |η·G| < θ hold −η·G in their accumulator
    # and got no pulse; the others got one pulse of sign −G and restarted from 0.
    x, delta, g, config = conv_case
    rng = np.random.default_rng(5)
    conv = _analog_conv(config, rng)
    theta = conv.tile.dw_min
    eta = 2.0 * theta / np.abs(g).max()  # the largest cells cross θ, the small ones do not
    rule = BinaryStochastic(eta, sample_inputs=False)
    rule.step(types.SimpleNamespace(layers=[conv]), [x], [delta], rng)
    target = -eta * g
    fired = np.abs(target) >= theta
    assert 0 < fired.sum() < fired.size
    np.testing.assert_allclose(conv.tile.get_weights()[fired] / theta, np.sign(target[fired]), atol=1e-9)
    np.testing.assert_allclose(conv.tile.get_weights()[~fired], 0.0, atol=1e-12)
    np.testing.assert_allclose(rule._acc[0][~fired], target[~fired], rtol=1e-6, atol=1e-12)


def test_sbe_on_a_conv_layer_with_a_rank_one_gradient_steps_by_minus_eta_g():
    # Reference: finite differences, as above, on a gradient of rank 1 by
    # construction (a uniform image makes every patch row the same vector, and
    # the errors of all positions are positive multiples of one vector): SBE's
    # streaming estimate is then exact once warm (Hoskins et al. 2019: the rank-1
    # update of a rank-1 batch gradient is that gradient), so the second step
    # of the same batch must be −η·G.
    rng = np.random.default_rng(6)
    x = np.full((2, 25), 0.6)
    v = np.array([0.3, -0.2])
    delta = (rng.uniform(0.5, 1.5, (2, 1, 9)) * v[None, :, None]).reshape(2, 18)
    conv = Conv2d((1, 5, 5), 3, w=rng.normal(size=(2, 9)), b=np.zeros(2))

    def objective():
        return float(np.sum(delta * conv.forward(x))) / x.shape[0]

    g = np.concatenate([_fd_grad(objective, conv.w), _fd_grad(objective, conv.b)[:, None]], axis=1)
    eta = 0.1
    rule = StreamingBatchEigenupdate(eta, rank=1)
    net = types.SimpleNamespace(layers=[conv])
    rule.step(net, [x], [delta], rng)  # warm-up: the vectors start random
    w0, b0 = conv.weights()
    rule.step(net, [x], [delta], rng)
    w1, b1 = conv.weights()
    step = np.concatenate([w1 - w0, (b1 - b0)[:, None]], axis=1)
    np.testing.assert_allclose(step, -eta * g, rtol=1e-6, atol=1e-10)
    assert rule.stats()["sgd_matrix_updates"] == 2 * 2 * 9  # B·P per-position outer products per batch


# --------------------------------------------------------------------------- accuracy on digits


@pytest.fixture(scope="module")
def digits_cnn_runs(tmp_path_factory):
    """The shipped digits CNN configs, FP and mixed precision (about 4 s and 6 s)."""
    out = tmp_path_factory.mktemp("digits_cnn")
    return {
        name: train(load_config(EXAMPLES / f"digits_cnn_{name}.toml"), out / name, progress=False)
        for name in ("sgd", "mixed_precision")
    }


def test_fp_cnn_reaches_95_percent_on_digits(digits_cnn_runs):
    # Measured: 96.9 % after 20 epochs (seeds 1, 2, 3: 96.9, 97.2, 97.8 %) on the
    # 359 held-out digits; a linear model reaches ~93-95 %, so 95 % shows the conv
    # layer learns features (2 points of margin).
    assert digits_cnn_runs["sgd"].test_accuracy >= 0.95


def test_mixed_precision_cnn_within_3_points_of_fp(digits_cnn_runs):
    # Issue target: the same CNN and seed on statistical PCM loses at most 3
    # points against floating point. Measured: 96.1 % vs 96.9 % (seeds 2, 3:
    # 0.6 and 1.1 points below FP), so the bound has about 2 points of margin.
    fp = digits_cnn_runs["sgd"].test_accuracy
    hw = digits_cnn_runs["mixed_precision"]
    assert hw.test_accuracy >= fp - 0.03, (hw.test_accuracy, fp)
    assert hw.stats["pulses"] > 0


# --------------------------------------------------------------------------- resume


def _cnn_variant(example: str, epochs: int, max_train: int, **network):
    """An example config with a conv(4, 3x3) -> 10 network, fewer epochs and samples."""
    cfg = load_config(EXAMPLES / f"{example}.toml")
    net = dataclasses.replace(cfg.network, sizes=(64, 10), conv=(ConvLayerConfig(4, 3),), **network)
    cfg = dataclasses.replace(
        cfg, network=net, training=dataclasses.replace(cfg.training, epochs=epochs),
        data=dataclasses.replace(cfg.data, max_train=max_train),
    )
    if cfg.rule.name == "tiki-taka":
        cfg = dataclasses.replace(cfg, rule=dataclasses.replace(cfg.rule, symmetry_pulses=20))
    return cfg


def _tile_states(out_dir: Path) -> list:
    state = load_checkpoint(out_dir / "checkpoints" / "last.npz")
    return [(layer.get("tile", {}).get("g"), layer.get("conv")) for layer in state["network"]]


@pytest.mark.parametrize(
    "example",
    ["digits_sgd", "digits_stochastic", "digits_mixed_precision", "digits_binary_stochastic", "digits_sbe",
     "digits_cbram_sc", "digits_tiki_taka"],
)
def test_cnn_resume_after_epoch_1_of_2_is_bit_identical(tmp_path, example):
    # Reference: the same CNN config run straight through. Conv and dense
    # weights, device states, rule state and metrics.csv must agree bit for bit
    # (tiles' and rules' random streams restored), for every rule; with weight
    # scaling where the rule takes it, so the conv layer's output gain goes
    # through the checkpoint too.
    omega = {} if example == "digits_sgd" else {"weight_scaling_omega": 0.5}
    cfg = _cnn_variant(example, epochs=2, max_train=160, **omega)
    whole = train(cfg, tmp_path / "whole", progress=False)
    first = train(cfg, tmp_path / "pieces", progress=False, stop_after_epochs=1)
    assert first.epochs_completed == 1
    rest = train(cfg, tmp_path / "pieces", progress=False, resume=True)
    assert rest.epochs_completed == 2
    assert [w.shape for w, _ in rest.weights] == [(4, 9), (10, 144)]
    for (w1, b1), (w2, b2) in zip(whole.weights, rest.weights):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)
    for (g1, c1), (g2, c2) in zip(_tile_states(tmp_path / "whole"), _tile_states(tmp_path / "pieces")):
        assert c1 == c2
        if g1 is not None:
            np.testing.assert_array_equal(g1, g2)
    assert whole.stats == rest.stats
    assert (tmp_path / "whole/metrics.csv").read_bytes() == (tmp_path / "pieces/metrics.csv").read_bytes()


def test_resume_with_another_conv_layer_is_refused(tmp_path):
    cfg = _cnn_variant("digits_sgd", epochs=2, max_train=100)
    train(cfg, tmp_path / "run", progress=False, stop_after_epochs=1)
    changed = dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, conv=(ConvLayerConfig(8, 3),)))
    with pytest.raises(ConfigError, match=r"network.conv: checkpoint \[\{'filters': 4, 'kernel': 3\}\]"):
        train(changed, tmp_path / "run", progress=False, resume=True)
