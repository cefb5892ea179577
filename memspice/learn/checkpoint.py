"""Checkpoint files: nested state (dicts, lists, arrays, numbers, frozen dataclasses) in one .npz.

Arrays are stored as npz members, bit for bit; everything else goes into a
JSON document inside the same archive (member ``__state__``). Python ints of
any size survive (numpy Generator states hold 128-bit integers). Dataclasses
are stored with their qualified name and rebuilt on load, but only classes
from the ``memspice`` package are ever imported — a checkpoint cannot make
the loader run foreign code, and no pickle is involved.

The file is written to a temporary name and renamed, so an interrupted write
never leaves a half checkpoint under the real name.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from memspice.errors import DataError

FORMAT_VERSION = 1


def _encode(value, arrays: dict, path: str):
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays, path)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # JSON has no inf/nan; repr round-trips every float64 exactly.
        return {"__float__": repr(value)}
    if isinstance(value, enum.Enum):
        cls = type(value)
        return {"__enum__": f"{cls.__module__}:{cls.__qualname__}", "value": _encode(value.value, arrays, path)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: _encode(getattr(value, f.name), arrays, f"{path}.{f.name}") for f in dataclasses.fields(value)}
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise DataError(f"checkpoint state at {path or 'top'} has non-string keys; cannot store it")
        return {"__dict__": {k: _encode(v, arrays, f"{path}.{k}") for k, v in value.items()}}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(value)]
    raise DataError(f"checkpoint state at {path or 'top'} holds a {type(value).__name__}, which cannot be stored")


def _import_memspice(name: str):
    module_name, _, qualname = name.partition(":")
    if module_name != "memspice" and not module_name.startswith("memspice."):
        raise DataError(f"checkpoint names class {name!r} outside memspice; refusing to import it")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__float__" in value:
        return float(value["__float__"])
    if "__dict__" in value:
        return {k: _decode(v, arrays) for k, v in value["__dict__"].items()}
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__enum__" in value:
        return _import_memspice(value["__enum__"])(_decode(value["value"], arrays))
    if "__dataclass__" in value:
        cls = _import_memspice(value["__dataclass__"])
        return cls(**{k: _decode(v, arrays) for k, v in value["fields"].items()})
    raise DataError(f"checkpoint holds an unknown entry {sorted(value)}; the file is corrupt or from another program")


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` to ``path`` (an .npz file), atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    doc = {"format": FORMAT_VERSION, "state": _encode(state, arrays, "")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, __state__=np.frombuffer(json.dumps(doc).encode("utf-8"), dtype=np.uint8), **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    """The state stored by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {str(path)!r} does not exist; run without --resume to start afresh")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:  # our handle: closed on every error
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a 0-byte file is an EOFError
        raise DataError(f"checkpoint {str(path)!r} cannot be read ({exc or type(exc).__name__}); it is truncated or "
                        "not a checkpoint: give an intact one, or delete it and start afresh") from None
    if "__state__" not in arrays:
        raise DataError(f"{str(path)!r} is not a memspice checkpoint (no __state__ member)")
    try:
        doc = json.load(io.BytesIO(arrays.pop("__state__").tobytes()))
    except (ValueError, UnicodeDecodeError):
        raise DataError(f"checkpoint {str(path)!r} has a damaged state record; give an intact checkpoint") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_VERSION:
        doc = doc if isinstance(doc, dict) else {}
        raise DataError(
            f"checkpoint {str(path)!r} has format {doc.get('format')!r}; this memspice reads format {FORMAT_VERSION}"
        )
    return _decode(doc["state"], arrays)


def run_checkpoints(folder: str | Path) -> list[Path]:
    """The checkpoints of a run's ``checkpoints/`` folder, newest first: last.npz, then epoch-NNN.npz by epoch."""
    folder = Path(folder)
    epochs = sorted(folder.glob("epoch-[0-9][0-9][0-9]*.npz"), key=lambda p: p.name, reverse=True)
    last = folder / "last.npz"
    return ([last] if last.is_file() else []) + [p for p in epochs if p.is_file()]


def load_resume_checkpoint(folder: str | Path) -> tuple[dict, Path]:
    """The state to resume a run from: ``last.npz``, or the newest intact ``epoch-NNN.npz`` when it is missing or damaged.

    A fallback is said on standard error (which file was unusable, which one is used);
    DataError when no checkpoint of the folder can be read.
    """
    folder = Path(folder)
    problems = []
    for path in run_checkpoints(folder):
        try:
            state = load_checkpoint(path)
        except DataError as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if problems or path.name != "last.npz":
            import sys

            why = "; ".join(problems) if problems else "last.npz is missing"
            print(f"memspice: resuming from {path} (epoch {state.get('epoch', '?')}), the newest intact checkpoint: "
                  f"{why}", file=sys.stderr)
        return state, path
    if problems:
        raise DataError(f"no checkpoint in {str(folder)!r} can be read ({'; '.join(problems)}); "
                        "run without --resume into a new --out folder to start afresh")
    raise DataError(f"checkpoint {str(folder / 'last.npz')!r} does not exist; run without --resume to start afresh")


def generator_state(rng: np.random.Generator) -> dict:
    """The exact state of a numpy Generator (its bit generator's state dict)."""
    return rng.bit_generator.state


def generator_from_state(state: dict) -> np.random.Generator:
    """A Generator that continues exactly where the one that gave ``state`` stopped."""
    name = state["bit_generator"]
    bit_gen_cls = getattr(np.random, name, None)
    if bit_gen_cls is None or not isinstance(bit_gen_cls, type) or not issubclass(bit_gen_cls, np.random.BitGenerator):
        raise DataError(f"checkpoint names bit generator {name!r}, which numpy does not have")
    bit_gen = bit_gen_cls()
    bit_gen.state = state
    return np.random.Generator(bit_gen)
