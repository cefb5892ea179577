"""Reader for ngspice raw files (binary and ascii), written by ``ngspice -b -r``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memspice.errors import SpiceError
from memspice.inputs import input_file
from memspice.spice.result import SimResult, analysis_from_plotname, unit_from_type


def read_raw(path: str | Path) -> list[SimResult]:
    """Every plot (analysis) stored in a raw file, in the order written."""
    data = input_file(path, "raw file").read_bytes()
    if not data:
        raise SpiceError(f"raw file {path} is empty: ngspice wrote no results")
    plots: list[SimResult] = []
    pos = 0
    while pos < len(data):
        plot, pos = _read_plot(data, pos, path)
        plots.append(plot)
        # Skip whitespace between concatenated plots.
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r", b" "):
            pos += 1
    return plots


def _read_plot(data: bytes, pos: int, path) -> tuple[SimResult, int]:
    header: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise SpiceError(f"raw file {path} ends inside a header (truncated run?)")
        line = data[pos:end].decode("latin-1").rstrip("\r")
        pos = end + 1
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            n_vars = int(header["no. variables"])
            for _ in range(n_vars):
                end = data.find(b"\n", pos)
                fields = data[pos:end].decode("latin-1").split()
                pos = end + 1
                names.append(fields[1].lower())
                types.append(fields[2].lower() if len(fields) > 2 else "")
            continue
        if key in ("binary", "values"):
            break
        header[key] = value.strip()

    n_vars = len(names)
    n_points = int(header.get("no. points", "0"))
    flags = header.get("flags", "real").lower()
    complex_values = "complex" in flags
    if key == "binary":
        width = 2 if complex_values else 1
        count = n_points * n_vars * width
        nbytes = count * 8
        if pos + nbytes > len(data):
            raise SpiceError(f"raw file {path} is truncated: expected {n_points} points of {n_vars} vectors")
        raw = np.frombuffer(data, dtype="<f8", count=count, offset=pos).reshape(n_points, n_vars * width)
        pos += nbytes
        if complex_values:
            table = raw[:, 0::2] + 1j * raw[:, 1::2]
        else:
            table = raw
    else:
        table, pos = _read_ascii_values(data, pos, n_points, n_vars, complex_values, path)

    vectors = {name: np.array(table[:, k]) for k, name in enumerate(names)}
    units = {name: unit_from_type(t) for name, t in zip(names, types)}
    analysis = analysis_from_plotname(header.get("plotname", ""))
    axis = names[0] if analysis in ("tran", "dc", "ac") and names else None
    return SimResult(analysis, header.get("title", ""), vectors, units, axis), pos


def _read_ascii_values(data, pos, n_points, n_vars, complex_values, path):
    dtype = complex if complex_values else float
    table = np.empty((n_points, n_vars), dtype=dtype)
    for p in range(n_points):
        for k in range(n_vars):
            end = data.find(b"\n", pos)
            if end < 0:
                raise SpiceError(f"raw file {path} is truncated at point {p}")
            fields = data[pos:end].decode("latin-1").split()
            pos = end + 1
            token = fields[-1] if fields else ""
            try:
                if complex_values:
                    re_part, _, im_part = token.partition(",")
                    table[p, k] = complex(float(re_part), float(im_part or 0.0))
                else:
                    table[p, k] = float(token)
            except ValueError:
                raise SpiceError(f"raw file {path}: cannot read value {token!r} at point {p}") from None
    return table, pos
