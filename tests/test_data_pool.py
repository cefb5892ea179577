"""[data] pool: images averaged over pixel blocks (memspice.learn.datasets.pool_images)."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.errors import ConfigError


def test_pooled_digits_are_the_block_means_of_sklearns_images():
    # [data] pool = 2: each feature is the mean of a 2x2 pixel block. Reference: scikit-learn's own 8x8 images,
    # averaged by hand for the sample the split put first (found by matching the unpooled sample).
    from sklearn.datasets import load_digits as sk_digits

    from memspice.learn import config_from_dict
    from memspice.learn.run_state import load_dataset

    doc = {"data": {"name": "digits", "pool": 2}, "network": {"sizes": [16, 10]}}
    pooled = load_dataset(config_from_dict(doc), np.random.default_rng(4))
    full = load_dataset(config_from_dict({"data": {"name": "digits"}, "network": {"sizes": [64, 10]}}),
                        np.random.default_rng(4))
    images = sk_digits().images / 16.0
    k = int(np.flatnonzero(np.all(np.abs(images.reshape(-1, 64) - full.train.x[0]) < 1e-7, axis=1))[0])
    hand = images[k].reshape(4, 2, 4, 2).mean(axis=(1, 3)).reshape(-1)
    assert pooled.train.x.shape == (len(full.train), 16) and pooled.n_features == 16
    np.testing.assert_allclose(pooled.train.x[0], hand, atol=1e-7)
    with pytest.raises(ConfigError, match="choose a block side that divides them: 1, 2, 4, 8"):
        config_from_dict({"data": {"name": "digits", "pool": 3}, "network": {"sizes": [16, 10]}})
