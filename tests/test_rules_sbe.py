"""Streaming batch eigenupdate (Hoskins et al. 2019; docs/algorithms.md, "Streaming batch eigenupdate"): estimator, counts, digits accuracy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from memspice.learn import load_config, train
from memspice.learn.rules import SGDConfig
from memspice.learn.layers import FloatDense
from memspice.learn.network import Network
from memspice.learn.rules.sbe import StreamingBatchEigenupdate, _random_orthonormal, streaming_eigenupdate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _low_rank_batch(rng, n_in=40, n_out=12, batch=128, sigmas=(3.0, 1.0), noise=0.02):
    """Rows whose batch gradient mean_j d_j x_j^T is close to sum_l sigma_l u_l v_l^T (plus small noise)."""
    u, _ = np.linalg.qr(rng.standard_normal((n_out, len(sigmas))))
    v, _ = np.linalg.qr(rng.standard_normal((n_in, len(sigmas))))
    c = rng.standard_normal((batch, len(sigmas)))
    x = c @ v.T + noise * rng.standard_normal((batch, n_in))
    d = (c * np.array(sigmas)) @ u.T + noise * rng.standard_normal((batch, n_out))
    return x, d


def test_rank1_estimate_converges_to_top_singular_pair():
    # Reference: numpy's SVD of the exact batch gradient G = d^T x / B. The
    # streaming power step, warm-started batch after batch on the same batch
    # (a constant gradient), must find the top pair to cosine >= 0.99 and the
    # top singular value to 2 %.
    rng = np.random.default_rng(11)
    x, d = _low_rank_batch(rng)
    g = d.T @ x / x.shape[0]
    u, sv, vt = np.linalg.svd(g)
    x_hat, d_hat = _random_orthonormal(x.shape[1], 1, rng), _random_orthonormal(d.shape[1], 1, rng)
    for _ in range(6):
        s, x_hat, d_hat = streaming_eigenupdate(x, d, x_hat, d_hat)
    assert abs(float(vt[0] @ x_hat[:, 0])) >= 0.99
    assert abs(float(u[:, 0] @ d_hat[:, 0])) >= 0.99
    assert s[0, 0] == pytest.approx(sv[0], rel=0.05)
    # the rank-1 update points along the gradient's best rank-1 approximation
    est = s[0, 0] * np.outer(d_hat[:, 0], x_hat[:, 0])
    best = sv[0] * np.outer(u[:, 0], vt[0])
    assert np.sum(est * best) / (np.linalg.norm(est) * np.linalg.norm(best)) >= 0.99


def test_rank2_estimate_spans_top_two_singular_subspace():
    # Reference: SVD again; the two-column block must span the top-2 right and
    # left singular subspaces (principal-angle cosines >= 0.99), the singular
    # values of the 2x2 S the top two to 6 % (see the rank-1 test), and
    # dhat S xhat^T the best rank-2 approximation of G to 10 % (Frobenius; S
    # carries the few-% low bias of the streaming mean on both values).
    rng = np.random.default_rng(12)
    x, d = _low_rank_batch(rng, sigmas=(3.0, 1.5))
    g = d.T @ x / x.shape[0]
    u, sv, vt = np.linalg.svd(g)
    x_hat, d_hat = _random_orthonormal(x.shape[1], 2, rng), _random_orthonormal(d.shape[1], 2, rng)
    for _ in range(10):
        s, x_hat, d_hat = streaming_eigenupdate(x, d, x_hat, d_hat)
    np.testing.assert_allclose(x_hat.T @ x_hat, np.eye(2), atol=1e-12)
    assert np.linalg.svd(vt[:2] @ x_hat, compute_uv=False).min() >= 0.99
    assert np.linalg.svd(u[:, :2].T @ d_hat, compute_uv=False).min() >= 0.99
    np.testing.assert_allclose(np.linalg.svd(s, compute_uv=False), sv[:2], rtol=0.06)
    best = (u[:, :2] * sv[:2]) @ vt[:2]
    assert np.linalg.norm(d_hat @ s @ x_hat.T - best) <= 0.10 * np.linalg.norm(best)


def test_float_layer_takes_the_rank1_step_and_counts_one_update_per_batch():
    # On a float layer the rule applies -eta s dhat xhat^T exactly (bias = last
    # column); one matrix update per batch against B for per-sample SGD.
    rng = np.random.default_rng(13)
    x, d = _low_rank_batch(rng, n_in=6, n_out=4, batch=32)
    layer = FloatDense(np.zeros((4, 6)))
    rule = StreamingBatchEigenupdate(0.1)
    rule.step(Network([layer]), [x], [d], np.random.default_rng(1))
    xh, dh = rule.state_dict()["x_hat"][0], rule.state_dict()["d_hat"][0]
    s, _, _ = streaming_eigenupdate(np.concatenate([x, np.ones((32, 1))], 1), d, *_first_vectors(7, 4))
    w, b = layer.weights()
    np.testing.assert_allclose(np.concatenate([w, b[:, None]], 1), -0.1 * s[0, 0] * np.outer(dh[:, 0], xh[:, 0]), atol=1e-12)
    assert rule.stats()["matrix_updates"] == 1 and rule.stats()["sgd_matrix_updates"] == 32


def _first_vectors(n_in, n_out):
    rng = np.random.default_rng(1)  # the rule's stream above: x_hat drawn first, then d_hat
    return _random_orthonormal(n_in, 1, rng), _random_orthonormal(n_out, 1, rng)


@pytest.fixture(scope="module")
def sbe_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sbe")
    cfg = load_config(EXAMPLES / "digits_sbe.toml")
    # FP baseline of the same network (64-32-10 ReLU, batch 128): plain SGD, no
    # tile; 40 epochs are enough for it (SBE's cost is more epochs, Hoskins et al.).
    fp_cfg = dataclasses.replace(
        cfg, rule=SGDConfig(learning_rate=0.5), tile={},
        training=dataclasses.replace(cfg.training, epochs=40),
    )
    return train(cfg, out / "sbe", progress=False), train(fp_cfg, out / "fp", progress=False)


@pytest.mark.slow  # ~25-45 s on the shared 2-core machine (trainer writes a plot per epoch)
def test_sbe_on_digits_within_3_percent_of_fp(sbe_run):
    # Issue target: within 3 percentage points of the FP baseline of the same network.
    sbe, fp = sbe_run
    assert sbe.test_accuracy >= fp.test_accuracy - 0.03, (sbe.test_accuracy, fp.test_accuracy)


@pytest.mark.slow  # ~25-45 s on the shared 2-core machine (trainer writes a plot per epoch)
def test_sbe_takes_at_least_15x_fewer_matrix_updates_than_sgd_at_batch_128(sbe_run):
    # Hoskins et al.: ~20x fewer matrix updates than SGD at batch 128. Counted on
    # the same run: one rank-1 update per layer and batch vs one per sample and
    # layer; digits keeps 1294 of 1797 images for training (test 20 %, validation
    # 10 % of the rest) = 10 batches of 128 + one of 14 per epoch.
    sbe, _ = sbe_run
    st = sbe.stats
    epochs = sbe.epochs_completed
    assert st["matrix_updates"] == 2 * 11 * epochs
    assert st["sgd_matrix_updates"] == 2 * 1294 * epochs
    assert st["sgd_matrix_updates"] / st["matrix_updates"] >= 15.0
    assert st["clipped_probability_fraction"] < 0.01  # bl = 31 covers the batch steps


def test_exact_estimator_at_full_rank_is_the_mini_batch_step():
    # Reference: with k = min(n_out, n_in + 1) the best rank-k approximation of G is G itself
    # (Eckart-Young), so rule.estimator = "exact" must take plain mini-batch SGD's step -(eta/B) sum d [x, 1]^T
    # (FloatSGD); rank 1 must take sigma_1 u_1 v_1^T, whose norm is the spectral norm of G.
    from memspice.learn.rules.sgd import FloatSGD

    rng = np.random.default_rng(14)
    x, d = _low_rank_batch(rng, n_in=6, n_out=4, batch=32, sigmas=(3.0, 1.0, 0.5), noise=0.1)
    full, ref, one = (FloatDense(np.zeros((4, 6))) for _ in range(3))
    StreamingBatchEigenupdate(0.1, rank=4, estimator="exact").step(Network([full]), [x], [d], np.random.default_rng(1))
    FloatSGD(0.1).step(Network([ref]), [x], [d], np.random.default_rng(1))
    for a, b in zip(full.weights(), ref.weights()):
        np.testing.assert_allclose(a, b, atol=1e-12)
    StreamingBatchEigenupdate(0.1, rank=1, estimator="exact").step(Network([one]), [x], [d], np.random.default_rng(1))
    w, b = one.weights()
    g = d.T @ np.concatenate([x, np.ones((32, 1))], 1) / 32
    assert np.linalg.norm(np.concatenate([w, b[:, None]], 1), 2) == pytest.approx(0.1 * np.linalg.norm(g, 2), rel=1e-12)
    assert np.linalg.matrix_rank(np.concatenate([w, b[:, None]], 1), tol=1e-12) == 1
