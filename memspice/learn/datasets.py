"""Datasets for training, loaded offline, as float arrays in [0, 1].

Three sources:

* ``digits`` — scikit-learn's 8x8 hand-written digits (1797 images, ships with
  scikit-learn, so it is always there; the default for quick runs);
* ``fashion-mnist`` — the 28x28 Fashion-MNIST IDX files of Debian's
  ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``);
* ``idx`` — any IDX image/label pair (MNIST, EMNIST, ...) from paths the user
  gives, gzip'd or not.

Every loader returns a :class:`Dataset`: the training part split into train
and validation sets by a seeded permutation, and a separate test set (the
official test files for IDX data; a seeded held-out part for digits, which has
no official test split).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memspice.errors import DataError, ParameterError

FEATURE_DTYPE = np.dtype(np.float32)
"""dtype of every dataset's samples, and so of a floating-point network's weights, activations and errors:
float32 holds 8-bit grey levels k/255 to 6e-8 and halves the cost of every matrix product."""

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package installs the IDX files."""

_FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# IDX type codes (LeCun's MNIST page): code -> numpy big-endian dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass(frozen=True)
class Split:
    """One part of a dataset.

    ``x``: :data:`FEATURE_DTYPE` (float32) (n_samples, n_features), every value in [0, 1];
    ``y``: int64 (n_samples,), class labels 0 .. n_classes-1.
    """

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test splits of one classification dataset."""

    name: str
    train: Split
    validation: Split
    test: Split
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.train.x.shape[1])


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in one IDX file (gzip'd when the name ends in ``.gz``).

    Format (LeCun et al., MNIST page): two zero bytes, a type code, the number
    of dimensions, one big-endian uint32 per dimension, then the data.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"IDX file {str(path)!r} does not exist; check the path in the config")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {str(path)!r}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(
            f"{str(path)!r} is not an IDX file (magic bytes {raw[:4].hex() or 'none'}, "
            "expected 0000 + type code 08/09/0b/0c/0d/0e + number of dimensions)"
        )
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"IDX file {str(path)!r} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"IDX file {str(path)!r} holds {len(raw) - header} data bytes, but its header "
            f"(shape {shape}, {dtype.itemsize} bytes each) says {expected}; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _check_images(images: np.ndarray, path: Path) -> np.ndarray:
    """IDX images (n, ...) flattened to (n, features), as stored; DataError unless uint8 or already in [0, 1]."""
    x = images.reshape(images.shape[0], -1)
    if images.dtype.kind == "u" and images.dtype.itemsize == 1:
        return x
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if lo < 0.0 or hi > 1.0:
        raise DataError(
            f"images in {str(path)!r} are of type {images.dtype} with values in [{lo}, {hi}]; "
            "only uint8 images (scaled by 1/255) or floats already in [0, 1] are accepted"
        )
    return x


def _to_unit(split: Split) -> Split:
    """A split of checked IDX images (:func:`_check_images`) as FEATURE_DTYPE samples in [0, 1].

    Done after the split and the sample limits, so only the kept samples are converted.
    """
    x = split.x
    if x.dtype.kind == "u" and x.dtype.itemsize == 1:
        # 8-bit grey levels, 0 = background; the float32 quotient is k/255 correctly rounded
        return Split(x.astype(FEATURE_DTYPE) / FEATURE_DTYPE.type(255.0), split.y)
    return Split(x.astype(FEATURE_DTYPE), split.y)


def _check_pair(images: np.ndarray, labels: np.ndarray, img_path: Path, lbl_path: Path) -> np.ndarray:
    if labels.ndim != 1:
        raise DataError(f"label file {str(lbl_path)!r} has shape {labels.shape}; expected one dimension")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{str(img_path)!r} holds {images.shape[0]} images but {str(lbl_path)!r} "
            f"holds {labels.shape[0]} labels; they are not a pair"
        )
    y = labels.astype(np.int64)
    if y.size and y.min() < 0:
        raise DataError(f"label file {str(lbl_path)!r} contains negative labels ({int(y.min())})")
    return y


def _split_train_validation(
    x: np.ndarray, y: np.ndarray, validation_fraction: float, rng: np.random.Generator
) -> tuple[Split, Split]:
    if not 0.0 < validation_fraction < 1.0:
        raise ParameterError(f"validation_fraction = {validation_fraction}; it must lie strictly between 0 and 1")
    order = rng.permutation(y.shape[0])
    n_val = int(round(validation_fraction * y.shape[0]))
    if n_val == 0 or n_val == y.shape[0]:
        raise ParameterError(
            f"validation_fraction = {validation_fraction} of {y.shape[0]} samples leaves "
            f"{n_val} for validation; choose a fraction that leaves samples in both parts"
        )
    val, tr = order[:n_val], order[n_val:]
    return Split(x[tr], y[tr]), Split(x[val], y[val])


def _limit(split: Split, n: int | None) -> Split:
    """The first ``n`` samples (data are already in seeded random order)."""
    if n is None or n >= len(split):
        return split
    if n <= 0:
        raise ParameterError(f"a sample limit of {n} leaves no data; use a positive number or leave it unset")
    return Split(split.x[:n], split.y[:n])


def load_idx(
    train_images: str | Path,
    train_labels: str | Path,
    test_images: str | Path,
    test_labels: str | Path,
    rng: np.random.Generator,
    *,
    validation_fraction: float = 0.1,
    name: str = "idx",
    max_train: int | None = None,
    max_test: int | None = None,
) -> Dataset:
    """Any IDX image/label pair (MNIST layout) as a :class:`Dataset`.

    The training files are split into train and validation by a permutation
    drawn from ``rng``; ``max_train`` / ``max_test`` keep only that many samples
    (train after the split, taken from the seeded order; test the first ones).
    """
    paths = [Path(p) for p in (train_images, train_labels, test_images, test_labels)]
    arrays = [read_idx(p) for p in paths]
    x_train = _check_images(arrays[0], paths[0])
    y_train = _check_pair(arrays[0], arrays[1], paths[0], paths[1])
    x_test = _check_images(arrays[2], paths[2])
    y_test = _check_pair(arrays[2], arrays[3], paths[2], paths[3])
    if x_train.shape[1] != x_test.shape[1]:
        raise DataError(
            f"train images have {x_train.shape[1]} pixels but test images {x_test.shape[1]}; "
            "they do not come from the same dataset"
        )
    train, validation = _split_train_validation(x_train, y_train, validation_fraction, rng)
    test = Split(x_test, y_test)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    return Dataset(name, _to_unit(_limit(train, max_train)), _to_unit(validation), _to_unit(_limit(test, max_test)),
                   n_classes)


def load_fashion_mnist(
    rng: np.random.Generator,
    *,
    directory: str | Path = FASHION_MNIST_DIR,
    validation_fraction: float = 0.1,
    max_train: int | None = None,
    max_test: int | None = None,
) -> Dataset:
    """Fashion-MNIST (Xiao et al. 2017): 60 000 train + 10 000 test 28x28 images, 10 classes."""
    directory = Path(directory)
    missing = [f for f in _FASHION_FILES.values() if not (directory / f).is_file()]
    if missing:
        raise DataError(
            f"Fashion-MNIST file(s) {', '.join(missing)} not found in {str(directory)!r}; install them with "
            "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or point `data.directory` at a folder "
            "holding the four IDX files"
        )
    f = {k: directory / v for k, v in _FASHION_FILES.items()}
    return load_idx(
        f["train_images"], f["train_labels"], f["test_images"], f["test_labels"], rng,
        validation_fraction=validation_fraction, name="fashion-mnist", max_train=max_train, max_test=max_test,
    )


def load_digits(
    rng: np.random.Generator,
    *,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.2,
    max_train: int | None = None,
    max_test: int | None = None,
) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, grey levels 0..16 scaled to [0, 1]).

    Digits has no official test split: ``test_fraction`` of the samples is held
    out as the test set, then ``validation_fraction`` of the rest becomes the
    validation set, both by permutations drawn from ``rng``.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    x = (bunch.data / 16.0).astype(FEATURE_DTYPE)  # pixel values are integers 0..16: k/16 exact in float32
    y = bunch.target.astype(np.int64)
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction = {test_fraction}; it must lie strictly between 0 and 1")
    order = rng.permutation(y.shape[0])
    n_test = int(round(test_fraction * y.shape[0]))
    test = Split(x[order[:n_test]], y[order[:n_test]])
    rest = order[n_test:]
    train, validation = _split_train_validation(x[rest], y[rest], validation_fraction, rng)
    return Dataset("digits", _limit(train, max_train), validation, _limit(test, max_test), 10)


def pool_images(ds: Dataset, shape: tuple[int, int, int], k: int) -> Dataset:
    """``ds`` with every (C, H, W) image of ``shape`` averaged over k x k pixel blocks (C·H/k·W/k features)."""
    c, h, w = shape
    if ds.n_features != c * h * w or h % k or w % k:
        raise ParameterError(f"pool {k}: images of {ds.n_features} features are not {c}x{h}x{w} images in "
                             f"blocks of {k}x{k}")

    def pooled(split: Split) -> Split:
        x = split.x.reshape(-1, c, h // k, k, w // k, k).mean(axis=(3, 5), dtype=np.float64)
        return Split(x.reshape(x.shape[0], -1).astype(FEATURE_DTYPE), split.y)

    return Dataset(ds.name, pooled(ds.train), pooled(ds.validation), pooled(ds.test), ds.n_classes)

