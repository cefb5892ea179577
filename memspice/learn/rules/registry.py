"""The one list of update rules: rule name -> (rule class, config class), and building a rule from ``[rule]``.

A rule's ``[rule]`` keys are the fields of its config class (documented
there); everything that names rules or their keys (config checking, the
recorded config, ``trainer.make_rule``) reads them from :data:`RULES`.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from memspice.errors import ConfigError, ParameterError
from memspice.learn.rules.base import Rule, RuleConfig
from memspice.learn.rules.binary_stochastic import BinaryStochastic
from memspice.learn.rules.cbram_sc import CBRAMStochasticComputing
from memspice.learn.rules.mixed_precision import MixedPrecision
from memspice.learn.rules.sbe import StreamingBatchEigenupdate
from memspice.learn.rules.sgd import FloatSGD
from memspice.learn.rules.stochastic_coincidence import StochasticCoincidence
from memspice.learn.rules.tiki_taka import TikiTaka
from memspice.learn.table_values import typed_values


class RuleEntry(NamedTuple):
    """One registered rule: the class that updates the weights and the frozen config of its ``[rule]`` keys."""

    rule: type[Rule]
    config: type[RuleConfig]


RULES: dict[str, RuleEntry] = {
    cls.name: RuleEntry(cls, cls.config_class)
    for cls in (FloatSGD, StochasticCoincidence, MixedPrecision, BinaryStochastic, StreamingBatchEigenupdate,
                CBRAMStochasticComputing, TikiTaka)
}
"""Every rule, by its ``[rule] name``, in the order the docs list them (the first, "sgd", is the default)."""

DEFAULT_RULE = "sgd"


def rule_keys(name: str) -> tuple[str, ...]:
    """The keys of ``[rule]`` for rule ``name``: "name", then its config's fields in order."""
    return ("name", *(f.name for f in dataclasses.fields(RULES[name].config)))


def _rules_taking(key: str) -> list[str]:
    return [name for name in RULES if key in rule_keys(name)]


def rule_only_keys() -> dict[str, tuple[str, ...]]:
    """Every ``[rule]`` key that not all rules take -> the rules that take it, in registry order."""
    keys = dict.fromkeys(k for name in RULES for k in rule_keys(name))
    return {k: tuple(_rules_taking(k)) for k in keys if len(_rules_taking(k)) < len(RULES)}


def rule_config_from_table(table) -> RuleConfig:
    """The config of the rule a ``[rule]`` table names (default "sgd"), checked: unknown keys, keys of
    another rule, values of the wrong type or out of range are ConfigErrors naming the key."""
    if not isinstance(table, dict):
        raise ConfigError(f"[rule] must be a table, got {table!r}")
    values = dict(table)
    name = values.pop("name", DEFAULT_RULE)
    if not isinstance(name, str):
        raise ConfigError(f"rule.name = {name!r}: expected a string")
    if name not in RULES:
        raise ConfigError(f"rule.name = {name!r}: choose one of {', '.join(RULES)}")
    keys = rule_keys(name)
    takes = f"rule {name!r} takes: {', '.join(keys)}"
    unknown = sorted(str(k) for k in values if not _rules_taking(k))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} in [rule]; {takes}")
    for key in values:
        if key not in keys:
            names = " or ".join(repr(a) for a in _rules_taking(key))
            raise ConfigError(f"rule.{key} applies only to rule.name = {names}, not {name!r}; remove it ({takes})")
    config_class = RULES[name].config
    return config_class(**typed_values(config_class, values, "rule"))


def rule_config_dict(config: RuleConfig) -> dict:
    """The ``[rule]`` table of ``config`` (TOML-shaped, as recorded in summary.json and checkpoints):
    "name", then every field in order, fields that are None left out."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if v is not None}
    return {"name": config.name, **fields}


def build_rule(config: RuleConfig) -> Rule:
    """The rule object of ``config``; the rule's own parameter checks become ConfigErrors of [rule]."""
    try:
        return RULES[config.name].rule.from_config(config)
    except ParameterError as exc:
        raise ConfigError(f"[rule]: {exc}") from None
