"""Read statistics of a batch of read vectors, for the operation counters (:mod:`memspice.learn.counters`).

What the counters need of the vectors v driven into a tile in one batch of
reads: the number of reads, the driven lines (non-zero entries) and Σ|u|,
Σu² with u = v / max|v| of each vector (the DAC spans each vector's own
largest magnitude; the counters' docstring says why).
"""

from __future__ import annotations

import numpy as np

from memspice.errors import ParameterError


def _nonzero(a: np.ndarray) -> int:
    """Non-zero entries of |v| (float32/float64): an entry is 0 iff all its bits are (a uint view counts fastest)."""
    a = np.ascontiguousarray(a)
    return int(np.count_nonzero(a.view(np.uint32 if a.dtype == np.float32 else np.uint64)))


def vector_stats(v: np.ndarray, bias: bool = False) -> tuple[int, int, float, float]:
    """(reads, driven lines, Σ|u|, Σu²) of the rows of ``v`` (R, n) with u = v / max|v| per row.

    ``bias``: of the rows of [v, 1] (a dense layer's read with its bias line),
    without building them. Σ|u| = Σ_rows (Σ|v|)/max|v| and Σu² = Σ_rows
    (Σv²)/max|v|², the sums by BLAS in v's own float dtype (float32: ~1e-7
    relative); when every |v| <= 1 and there is a bias line, every row's
    max|u| is that line's 1 and u = v: whole-array sums.
    """
    v = np.asarray(v)
    if v.ndim != 2:
        raise ParameterError(f"read vectors must be a (reads, lines) array, got shape {v.shape}")
    if v.dtype not in (np.float32, np.float64):
        v = v.astype(np.float64)
    reads = v.shape[0]
    if v.shape[1] == 0:
        return (reads, reads, float(reads), float(reads)) if bias else (reads, 0, 0.0, 0.0)
    if bias:
        lo, hi = float(v.min()), float(v.max())
        if -1.0 <= lo and hi <= 1.0:
            a = v.reshape(-1) if lo >= 0.0 else np.abs(v).reshape(-1)
            return reads, _nonzero(a) + reads, float(np.dot(a, np.ones_like(a))) + reads, float(np.dot(a, a)) + reads
    a = np.abs(v)
    m = a.max(axis=1)
    ones = np.ones(a.shape[1], dtype=a.dtype)
    s_row = a @ ones
    sq_row = np.einsum("ij,ij->i", a, a)
    nnz = _nonzero(a)
    if bias:  # the bias line, driven with 1
        m, s_row, sq_row, nnz = np.maximum(m, 1.0), s_row + 1.0, sq_row + 1.0, nnz + reads
    inv = np.divide(1.0, m, out=np.zeros(m.shape, dtype=np.float64), where=m > 0.0)
    return reads, nnz, float(s_row @ inv), float(sq_row @ (inv * inv))


def sample_stats(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample (row) of ``x``: (driven lines, Σ|u|, Σu²) of its read [x, 1] with the bias line, float64 arrays.

    What :func:`vector_stats` sums for a batch of these rows (``bias=True``),
    computed once for a whole data set, ``chunk`` rows at a time, so that a
    batch of its samples costs a gather (:class:`~memspice.learn.counters.RunAccounting`).
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ParameterError(f"samples must be a (samples, features) array, got shape {x.shape}")
    n = x.shape[0]
    nnz, s_abs, s_sq = np.empty(n), np.empty(n), np.empty(n)
    for start in range(0, n, chunk):
        a = np.abs(x[start : start + chunk])
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float64)
        sl = slice(start, start + a.shape[0])
        m = np.maximum(a.max(axis=1, initial=0.0), 1.0).astype(np.float64)  # the bias line's 1
        ones = np.ones(a.shape[1], dtype=a.dtype)
        nnz[sl] = np.count_nonzero(a, axis=1) + 1
        s_abs[sl] = ((a @ ones) + 1.0) / m
        s_sq[sl] = (np.einsum("ij,ij->i", a, a) + 1.0) / (m * m)
    return nnz, s_abs, s_sq
