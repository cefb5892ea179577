"""Convolution on a tile via im2col (memspice.learn.conv): against scipy, finite differences, and on digits."""

from __future__ import annotations

import numpy as np
from scipy.signal import correlate

from memspice.learn.conv import Conv2d, build_conv_network
from memspice.learn.datasets import load_digits
from memspice.learn.operands import update_operands
from memspice.learn.rules.cbram_sc import CBRAMStochasticComputing
from memspice.learn.tiles import make_tile, tile_config_from_table
from memspice.learn.trainer import evaluate


def test_forward_matches_scipy_correlate():
    # Reference: scipy.signal.correlate (valid mode), summed over input channels, plus the bias.
    rng = np.random.default_rng(41)
    w, b = rng.normal(size=(4, 2 * 3 * 3)), rng.normal(size=4)
    conv = Conv2d((2, 6, 5), 3, w=w, b=b)
    x = rng.normal(size=(3, 60))
    y = conv.forward(x).reshape(3, 4, 4, 3)
    ref = np.stack([
        [correlate(x[n].reshape(2, 6, 5), w[f].reshape(2, 3, 3), mode="valid")[0] + b[f] for f in range(4)]
        for n in range(3)
    ])
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_backward_and_update_operands_are_the_exact_gradients():
    # Reference: central differences (step 1e-6, accurate to ~1e-9) of L = sum(g * conv(x)):
    # backward(g) = dL/dx, and -(1/B) sum over update_operands rows of P*g x^T ... = dL/dW / B.
    rng = np.random.default_rng(42)
    w, b = rng.normal(size=(2, 9)), rng.normal(size=2)
    conv = Conv2d((1, 5, 5), 3, w=w, b=b)
    x = rng.normal(size=(2, 25))
    g = rng.normal(size=(2, conv.n_out))
    h = 1e-6
    num_x = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num_x[idx] = (np.sum(g * conv.forward(xp)) - np.sum(g * conv.forward(xm))) / (2 * h)
    np.testing.assert_allclose(conv.backward(g), num_x, atol=1e-7)
    num_w = np.zeros((2, 10))
    for idx in np.ndindex(num_w.shape):
        for sgn in (1, -1):
            c2 = Conv2d((1, 5, 5), 3, w=conv.w.copy(), b=conv.b.copy())
            if idx[1] < 9:
                c2.w[idx] += sgn * h
            else:
                c2.b[idx[0]] += sgn * h
            num_w[idx] += sgn * np.sum(g * c2.forward(x)) / (2 * h)
    rows, dr = update_operands(conv, x, g)
    # rules average over the R = B*P rows, so the row mean must be the per-sample mean gradient
    np.testing.assert_allclose(dr.T @ rows / rows.shape[0], num_w / x.shape[0], atol=1e-7)


def test_small_cnn_on_tiles_learns_digits():
    # A conv(8 filters 3x3) -> 288 -> 10 CNN on tiles (500-level constant-step
    # devices), trained with the CBRAM-SC rule for 15 epochs: >= 93 % on the 359
    # held-out digits (the 64-32-10 MLP's FP baseline is ~97 %; a linear model ~93-95 %).
    rng = np.random.default_rng(43)
    data = load_digits(np.random.default_rng(1))
    table = {"device": "ConstantStep", "pair_scheme": "push_pull",
             "device_params": {"g_min_s": 1e-6, "g_max_s": 15e-6, "dg_up_s": 2.8e-8, "dg_down_s": 2.8e-8}}
    config = tile_config_from_table(table)
    net = build_conv_network((1, 8, 8), 8, 3, [10], rng, tile_factory=lambda o, i: make_tile(o, i, config, rng))
    assert [layer.n_out for layer in net.layers] == [288, 10]
    rule = CBRAMStochasticComputing(0.1, stream_length=32)
    for _ in range(15):
        order = rng.permutation(len(data.train))
        for s in range(0, len(order), 16):
            idx = order[s : s + 16]
            trace = net.forward_train(data.train.x[idx])
            deltas = net.backward(trace, data.train.y[idx])
            rule.step(net, trace.inputs, deltas, rng)
    _, acc = evaluate(net, data.test.x, data.test.y, 1000)
    assert acc >= 0.93, acc
