"""One registry of device models: the built-in ones (memspice.devices) and the imported Verilog-A cells.

Every command and config that takes a model name resolves it here, so a model
imported with ``memspice models import cell.va`` goes wherever a built-in one
goes::

    from memspice.external.registry import resolve_model
    resolve_model("vteam", {"k_on": -0.02})   # a CompactModel (memspice.devices.get_model)
    resolve_model("my_cell")                   # the ExternalModel of the card my_cell.toml in the models folder
    resolve_model("cards/my_cell.toml")        # a card by its path

Built-in names come first (an import may not take one, see
:func:`memspice.external.card.write_external_card`); an imported model is
rebuilt from its card once per process (compiled from the cache, read table
measured in VACASK) and kept.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from memspice.errors import ParameterError

__all__ = ["builtin_model", "imported_model_names", "is_imported", "model_names", "resolve_model"]


def _card_path(name, folder=None) -> Path | None:
    from memspice.external.card import imported_cards

    text = os.fspath(name)
    if text.endswith(".toml"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ParameterError(f"model card {text!r} does not exist; give the path of a card written by "
                                 "`memspice models import` or an imported model's name")
        return path
    for path, doc in imported_cards(folder):
        if doc["model"]["name"] == text:
            return path
    return None


def imported_model_names(folder=None) -> tuple[str, ...]:
    """Names of the imported models (cards in ``folder``, default the user models folder)."""
    from memspice.external.card import imported_cards

    return tuple(doc["model"]["name"] for _, doc in imported_cards(folder))


def model_names(folder=None) -> tuple[str, ...]:
    """Every model name that :func:`resolve_model` takes: built-in, then imported."""
    from memspice.devices import all_model_names

    return all_model_names() + tuple(n for n in imported_model_names(folder) if n not in all_model_names())


def is_imported(name, folder=None) -> bool:
    """True when ``name`` is an imported model (a card), not a built-in one."""
    from memspice.devices import all_model_names

    if not isinstance(name, (str, os.PathLike)) or (isinstance(name, str) and name in all_model_names()):
        return False
    return _card_path(name, folder) is not None


@lru_cache(maxsize=32)
def _load(path: str, card_text: str, params: tuple):
    from memspice.external.card import load_external_card

    return load_external_card(path, params=dict(params))


def resolve_model(name, params: Mapping[str, float] | None = None, *, folder=None):
    """The device model called ``name`` with parameter values ``params`` (SI for built-in models).

    ``name``: a built-in model (``memspice.devices.all_model_names()``), the
    name of an imported model's card in ``folder`` (default: the user models
    folder, ``$MEMSPICE_MODELS``), or the path of a card (``*.toml``). A model
    object is returned as it is (``params`` must then be empty). Unknown names
    raise ParameterError listing both kinds and how to import one.
    """
    from memspice.devices import all_model_names, get_model

    params = dict(params or {})
    if not isinstance(name, (str, os.PathLike)):
        if params:
            raise ParameterError("parameter values go with a model name; a model object carries its own")
        return name
    if isinstance(name, str) and name in all_model_names():
        return get_model(name, **params)
    path = _card_path(name, folder)
    if path is None:
        imported = imported_model_names(folder)
        raise ParameterError(
            f"unknown model {os.fspath(name)!r}; built-in: {', '.join(all_model_names())}; imported: "
            f"{', '.join(imported) or 'none'} (bring your own with `memspice models import FILE.va --state NAME`, "
            "or give the path of its card, NAME.toml)")
    return _load(str(path.resolve()), path.read_text(), tuple(sorted(params.items())))


def builtin_model(name, params: Mapping[str, float] | None = None, *, where: str, fix: str | None = None):
    """The built-in compact model ``name`` for a part that integrates it in numpy (``where``, e.g.
    ``"[tile.array]"``). An imported model is refused saying what to do instead (``fix``; default: train on its
    calibrated surrogate), an unknown name as :func:`resolve_model` refuses it."""
    from memspice.devices import all_model_names, get_model

    if isinstance(name, str) and name in all_model_names():
        return get_model(name, **dict(params or {}))
    if is_imported(name):
        text = os.fspath(name)
        fix = fix or (f"calibrate it with `memspice calibrate --from-spice {text} --engine vacask ... -o FILE.toml` "
                      'and give [tile] model_file = "FILE.toml" instead')
        raise ParameterError(f"{text!r} is an imported Verilog-A model, and {where} integrates a built-in compact "
                             f"model in numpy, which an imported one does not have (it runs in VACASK only); {fix}")
    resolve_model(name, params)  # raises for an unknown name, naming both kinds
    raise ParameterError(f"{where}: {name!r} is not the name of a built-in compact model")  # a model object
