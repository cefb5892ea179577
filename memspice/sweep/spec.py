"""The sweep file: a task kind, fixed parameters, a grid and cases -> a list of points with stable keys.

A sweep file (TOML)::

    [sweep]
    kind = "write"              # read | write | validate-update | calibrate | train
    output = "pulses.csv"       # results table, relative to the current folder (default <file stem>.csv)

    [base]                      # parameters every point shares
    model = "vteam"
    rows = 8
    cols = 8

    [grid]                      # every combination of these lists (Cartesian product)
    amplitude_v = [-0.20, -0.25]
    width_s = [20e-9, 50e-9]

    [[cases]]                   # optional: parameter sets that vary together, each crossed with the grid
    wire_ohm = 0.0
    [[cases]]
    wire_ohm = 10.0

A point's parameters are ``base``, then its case, then its grid values (later
ones override earlier ones). Nested tables are flattened to dotted names, so
``[base.params] alpha_off = 3`` and ``"params.alpha_off" = 3`` are the same
key; the task kinds (:mod:`memspice.sweep.tasks`) document their keys.

A point's *key* is a hash of its task kind and parameters (not of its
position in the grid), so a grid that grows keeps the keys of the points it
already had, and the results table knows which points are finished.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from memspice.config import read_toml
from memspice.errors import ConfigError

__all__ = ["Point", "SweepSpec", "load_sweep", "point_key", "sweep_from_dict"]

_SWEEP_KEYS = ("kind", "output", "name", "parquet")
_TOP_KEYS = ("sweep", "base", "grid", "cases")
#: a sweep larger than this is almost certainly a mistake in the grid (a list where a value was meant)
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its position in the expansion, its key and its parameters."""

    index: int  #: position in the expanded grid (0-based; informative only, the key identifies the point)
    key: str  #: 16 hex digits of sha256 over (kind, parameters)
    params: Mapping[str, object]  #: flat parameter dict, dotted names for nested settings


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: what to run on which points, and where the results go."""

    kind: str  #: task kind, a key of memspice.sweep.tasks.TASKS
    points: tuple[Point, ...]
    output: Path  #: the results CSV
    base_dir: Path  #: folder relative paths in parameters (a training config) are taken from
    varied: tuple[str, ...]  #: parameter names that differ between points, in grid order
    name: str = "sweep"
    parquet: bool = False  #: also write <output>.parquet at the end (needs pyarrow)

    @property
    def param_names(self) -> tuple[str, ...]:
        """Every parameter name of any point: the varied ones first, then the fixed ones sorted."""
        fixed = sorted({k for p in self.points for k in p.params} - set(self.varied))
        return (*self.varied, *fixed)


def _canonical(value, where: str):
    """``value`` as a JSON-stable plain value (checks for NaN/inf, which TOML allows but a key cannot hash stably)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{where} = {value!r}: parameters must be finite numbers")
        return value
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v, f"{where}.{k}") for k, v in sorted(value.items())}
    raise ConfigError(f"{where} = {value!r}: a parameter must be a number, string, boolean, list or table")


def point_key(kind: str, params: Mapping[str, object]) -> str:
    """16 hex digits identifying (kind, params); independent of key order and of the point's grid position."""
    doc = json.dumps({"kind": kind, "params": _canonical(dict(params), "params")}, sort_keys=True,
                     separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]


def _flatten(table: Mapping, prefix: str, where: str, *, leaf_tables: bool) -> dict:
    """Nested tables -> dotted keys. ``leaf_tables``: stop at tables inside lists (grid values stay whole)."""
    out: dict = {}
    for k, v in table.items():
        if not isinstance(k, str) or not k or k != k.strip():
            raise ConfigError(f"[{where}] has the key {k!r}: keys must be non-empty names without surrounding spaces")
        name = f"{prefix}{k}"
        if isinstance(v, Mapping) and not leaf_tables:
            if not v:
                raise ConfigError(f"[{where}] {name} is an empty table; remove it or give it keys")
            out.update(_flatten(v, f"{name}.", where, leaf_tables=leaf_tables))
        else:
            out[name] = v
    return out


def _flatten_grid(table: Mapping, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten_grid(v, f"{name}."))
        else:
            out[name] = v
    return out


def sweep_from_dict(doc: Mapping, base_dir: str | Path = ".", *, default_output: str = "sweep.csv",
                    output_dir: str | Path | None = None) -> SweepSpec:
    """A :class:`SweepSpec` from a TOML-shaped dict; the task kind checks every point's parameters.

    ``base_dir``: what relative paths among the parameters (a training config) are relative to.
    ``output_dir``: what a relative ``sweep.output`` is relative to (default ``base_dir``;
    :func:`load_sweep` gives the current folder).
    """
    from memspice.sweep.tasks import TASKS

    if not isinstance(doc, Mapping):
        raise ConfigError(f"a sweep file is a TOML table, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(_TOP_KEYS))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(map(repr, unknown))}; a sweep file has: "
                          f"{', '.join('[' + k + ']' for k in _TOP_KEYS)}")
    head = doc.get("sweep")
    if not isinstance(head, Mapping):
        raise ConfigError("a sweep file needs a [sweep] table with kind = one of " + ", ".join(map(repr, TASKS)))
    unknown = sorted(set(head) - set(_SWEEP_KEYS))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(map(repr, unknown))} in [sweep]; its keys are: {', '.join(_SWEEP_KEYS)}")
    kind = head.get("kind")
    if kind not in TASKS:
        raise ConfigError(f"sweep.kind = {kind!r}: choose one of {', '.join(map(repr, TASKS))}")
    name = head.get("name", "sweep")
    output = head.get("output", default_output)
    parquet = head.get("parquet", False)
    for key, value, typ in (("name", name, str), ("output", output, str), ("parquet", parquet, bool)):
        if not isinstance(value, typ):
            raise ConfigError(f"sweep.{key} = {value!r}: expected a {typ.__name__}")
    if not output.strip() or "\x00" in output:
        raise ConfigError(f"sweep.output = {output!r}: give a file name such as 'results.csv'")
    base_dir = Path(base_dir)
    # a relative output is in ``output_dir`` (the current folder for a sweep file: never beside a shipped example)
    out_path = Path(output) if Path(output).is_absolute() else Path(base_dir if output_dir is None else output_dir) / output
    if out_path.suffix.lower() != ".csv":
        raise ConfigError(f"sweep.output = {output!r}: the results table is a .csv file "
                          "(set parquet = true in [sweep] for an extra Parquet copy)")

    base = doc.get("base", {})
    if not isinstance(base, Mapping):
        raise ConfigError(f"[base] must be a table of parameters, got {base!r}")
    base = _flatten(base, "", "base", leaf_tables=False)

    grid = doc.get("grid", {})
    if not isinstance(grid, Mapping):
        raise ConfigError(f"[grid] must be a table of parameter = [values...], got {grid!r}")
    grid = _flatten_grid(grid)
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"grid.{k} = {values!r}: a grid axis is a non-empty list of values, e.g. {k} = [1, 2]")
        seen = set()
        for v in values:
            c = json.dumps(_canonical(v, f"grid.{k}"), sort_keys=True)
            if c in seen:
                raise ConfigError(f"grid.{k} lists the value {v!r} twice; each point would run once, remove the repeat")
            seen.add(c)

    cases = doc.get("cases", [{}])
    if not isinstance(cases, list) or not cases or not all(isinstance(c, Mapping) for c in cases):
        raise ConfigError(f"[[cases]] must be a list of tables, got {cases!r}")
    cases = [_flatten(c, "", f"cases[{i}]", leaf_tables=False) for i, c in enumerate(cases)]

    axes = list(grid)
    combos = list(itertools.product(*(grid[a] for a in axes)))
    n = len(combos) * len(cases)
    if n > MAX_POINTS:
        raise ConfigError(f"the sweep expands to {n} points (more than {MAX_POINTS}); split it into several files")
    task = TASKS[kind]
    points: list[Point] = []
    keys: dict[str, int] = {}
    for case in cases:
        for combo in combos:
            params = {**base, **case, **dict(zip(axes, combo))}
            index = len(points)
            params = task.normalise(params, where=f"point {index} ({_short(params, axes, case)})")
            key = point_key(kind, params)
            if key in keys:
                raise ConfigError(f"points {keys[key]} and {index} have the same parameters ({_short(params, axes, case)}); "
                                  "a case repeats a grid value, remove one of them")
            keys[key] = index
            points.append(Point(index=index, key=key, params=params))
    varied = [a for a in axes]
    for case in cases:
        varied += [k for k in case if k not in varied and len(cases) > 1]
    task.check_points([p.params for p in points], base_dir=base_dir)
    return SweepSpec(kind=kind, points=tuple(points), output=out_path, base_dir=base_dir, varied=tuple(varied),
                     name=name, parquet=parquet)


def _short(params: Mapping, axes, case: Mapping) -> str:
    shown = [*axes, *case]
    return ", ".join(f"{k}={params[k]!r}" for k in shown if k in params) or "base only"


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file (TOML); every point's parameters are validated before anything runs."""
    path = Path(path)
    doc = read_toml(path, "sweep file", hint="see examples/sweeps/ for examples")
    try:
        return sweep_from_dict(doc, base_dir=path.resolve().parent, default_output=f"{path.stem}.csv",
                               output_dir=Path.cwd())
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
