"""Datasets, configuration files and checkpoint files of memspice.learn."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from memspice.errors import ConfigError, DataError
from memspice.learn.checkpoint import generator_from_state, generator_state, load_checkpoint, save_checkpoint
from memspice.learn.config import config_from_dict, load_config
from memspice.learn.datasets import FASHION_MNIST_DIR, load_digits, load_fashion_mnist, load_idx, read_idx

# --------------------------------------------------------------------------- datasets


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    """IDX writer from the format description on LeCun's MNIST page (independent of read_idx)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f8"): 0x0E}
    header = struct.pack(">BBBB", 0, 0, codes[array.dtype], array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.tobytes()
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_pair_from_user_path_is_scaled_to_unit_interval(tmp_path, compress):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(50, 4, 3), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    labels = rng.integers(0, 5, size=50).astype(np.uint8)
    suffix = ".gz" if compress else ""
    paths = [tmp_path / f"{n}{suffix}" for n in ("tri", "trl", "tei", "tel")]
    _write_idx(paths[0], images, compress)
    _write_idx(paths[1], labels, compress)
    _write_idx(paths[2], images[:20], compress)
    _write_idx(paths[3], labels[:20], compress)
    data = load_idx(*paths, np.random.default_rng(0), validation_fraction=0.2)
    # 8-bit grey levels k map to k/255 exactly: 0 -> 0.0, 255 -> 1.0
    assert data.test.x[0, 0] == 0.0 and data.test.x[1, 0] == 1.0
    np.testing.assert_array_equal(data.test.x * 255.0, images[:20].reshape(20, 12))
    assert (len(data.train), len(data.validation), len(data.test)) == (40, 10, 20)
    # train + validation is a permutation of the file's samples: same multiset of (image, label)
    joined = np.concatenate([data.train.x, data.validation.x]) * 255
    key_split = sorted(map(tuple, np.column_stack([joined, np.concatenate([data.train.y, data.validation.y])])))
    key_file = sorted(map(tuple, np.column_stack([images.reshape(50, 12), labels]).astype(float)))
    assert key_split == key_file


def test_idx_truncated_file_names_the_byte_counts(tmp_path):
    path = tmp_path / "bad-idx"
    _write_idx(path, np.zeros((10, 2, 2), dtype=np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match=r"holds 37 data bytes.*says 40"):
        read_idx(path)


def test_fashion_mnist_matches_published_class_balance():
    # Xiao et al. 2017: 60 000 training and 10 000 test images, 28x28, ten
    # classes of exactly 6 000 / 1 000 images each.
    data = load_fashion_mnist(np.random.default_rng(0), validation_fraction=0.1)
    assert data.n_features == 784 and data.n_classes == 10
    assert (len(data.train), len(data.validation), len(data.test)) == (54000, 6000, 10000)
    counts = np.bincount(np.concatenate([data.train.y, data.validation.y]), minlength=10)
    np.testing.assert_array_equal(counts, np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(data.test.y, minlength=10), np.full(10, 1000))
    assert data.train.x.min() == 0.0 and data.train.x.max() == 1.0


def test_missing_fashion_mnist_says_how_to_install(tmp_path):
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(np.random.default_rng(0), directory=tmp_path)
    assert FASHION_MNIST_DIR == Path("/usr/share/datasets/fashion-mnist")


def test_digits_split_sizes_and_seeding():
    # scikit-learn's digits: 1797 images of 8x8 pixels with grey levels 0..16.
    a = load_digits(np.random.default_rng(5), validation_fraction=0.1, test_fraction=0.2)
    b = load_digits(np.random.default_rng(5), validation_fraction=0.1, test_fraction=0.2)
    c = load_digits(np.random.default_rng(6), validation_fraction=0.1, test_fraction=0.2)
    # round(0.2 * 1797) = 359 test, round(0.1 * 1438) = 144 validation, 1294 train
    assert (len(a.train), len(a.validation), len(a.test)) == (1294, 144, 359)
    assert a.train.x.min() == 0.0 and a.train.x.max() == 1.0
    np.testing.assert_array_equal(a.train.x, b.train.x)
    assert not np.array_equal(a.train.y, c.train.y)
    # the three parts together hold every label of the full set exactly once
    from sklearn.datasets import load_digits as sk

    full = np.bincount(sk().target, minlength=10)
    parts = sum(np.bincount(s.y, minlength=10) for s in (a.train, a.validation, a.test))
    np.testing.assert_array_equal(parts, full)


# --------------------------------------------------------------------------- config


def test_config_defaults_and_documented_example(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'seed = 7\n[data]\nname = "digits"\n[network]\nsizes = [64, 16, 10]\nactivation = "relu"\n'
        '[training]\nepochs = 3\n[rule]\nname = "sgd"\nlearning_rate = 0.25\n'
    )
    cfg = load_config(path)
    assert cfg.seed == 7 and cfg.network.sizes == (64, 16, 10) and cfg.network.activation == "relu"
    assert cfg.training.batch_size == 32  # default documented in memspice.learn.config
    assert cfg.rule.learning_rate == 0.25


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"rule": {"name": "sgd", "learnig_rate": 0.1}}, r"unknown key\(s\) learnig_rate in \[rule\]"),
        ({"seeed": 1}, r"unknown top-level key\(s\) seeed"),
        ({"training": {"epochs": "ten"}}, r"training.epochs = 'ten': expected an integer"),
        ({"rule": {"name": "sgd", "bl": 10}}, r"rule.bl applies only to rule.name = 'stochastic-coincidence'"),
        ({"data": {"name": "digits", "directory": "/x"}}, r"data.directory applies only to"),
        ({"data": {"name": "idx"}}, r"needs the paths data.train_images"),
        ({"rule": {"name": "adam"}}, r"rule.name = 'adam'"),
        ({"tile": {"device": "ConstantStep"}}, r"\[tile\] is given but rule.name = 'sgd'"),
        ({"network": {"weight_scaling_omega": 0.5}}, r"weight_scaling_omega applies to analog rules only"),
    ],
)
def test_config_errors_name_the_key(doc, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(doc)


def test_config_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[network]\nsize = [64, 10]\n")
    with pytest.raises(ConfigError, match=r"bad.toml: unknown key\(s\) size in \[network\]"):
        load_config(path)
    path.write_text("[network\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(11)
    rng.random(17)  # move it away from its seed state
    state = {
        "w": rng.standard_normal((3, 4)),
        "counts": np.arange(6, dtype=np.int64).reshape(2, 3),
        "floats": [0.1, float("inf"), -0.0, 1e-310],
        "nested": {"tuple": (1, "a", None), "flag": True},
        "rng": generator_state(rng),
    }
    path = tmp_path / "c.npz"
    save_checkpoint(path, state)
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["w"], state["w"])
    assert back["w"].dtype == np.float64 and back["counts"].dtype == np.int64
    assert back["floats"][:3] == [0.1, float("inf"), -0.0] and back["floats"][3] == 1e-310
    assert np.signbit(back["floats"][2])
    assert back["nested"] == {"tuple": (1, "a", None), "flag": True}
    # a generator restored from the checkpoint continues the very same stream
    np.testing.assert_array_equal(generator_from_state(back["rng"]).random(5), rng.random(5))


def test_checkpoint_refuses_foreign_classes(tmp_path):
    import io
    import json

    doc = {"format": 1, "state": {"__dataclass__": "os:system", "fields": {}}}
    buf = io.BytesIO()
    np.savez(buf, __state__=np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))
    path = tmp_path / "evil.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(DataError, match="outside memspice"):
        load_checkpoint(path)
