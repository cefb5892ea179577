"""The rule registry is the one list of rules: every [rule] key comes from a documented config field."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest

from memspice.errors import ConfigError
from memspice.learn.config import config_from_dict
from memspice.learn.rules import RULES, Rule, RuleConfig, build_rule, rule_config_dict, rule_config_from_table
from memspice.learn.rules.registry import rule_keys


def _field_docs(cls) -> dict[str, str]:
    """Field name -> the string literal right after its annotation, over ``cls`` and its dataclass bases."""
    docs = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(inspect.getsource(klass).lstrip()).body[0].body
        for node, after in zip(body, body[1:] + [None]):
            if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                docs[node.target.id] = after.value.value
    return docs


@pytest.mark.parametrize("name", list(RULES))
def test_each_rule_owns_a_documented_config(name):
    entry = RULES[name]
    assert issubclass(entry.rule, Rule) and issubclass(entry.config, RuleConfig)
    assert entry.rule.name == entry.config.name == name and entry.rule.config_class is entry.config
    docs = _field_docs(entry.config)
    for f in dataclasses.fields(entry.config):
        assert docs.get(f.name, "").strip(), f"{name}: rule.{f.name} has no docstring"
    default = entry.config()
    assert rule_config_from_table({"name": name}) == default
    assert rule_config_dict(default)["name"] == name and set(rule_config_dict(default)) <= set(rule_keys(name))
    assert rule_config_from_table(rule_config_dict(default)) == default  # the recorded table loads back
    assert isinstance(build_rule(default), entry.rule)


def test_keys_of_another_rule_name_the_rule_and_its_keys():
    with pytest.raises(ConfigError, match=r"rule.rank applies only to rule.name = 'sbe', not 'tiki-taka'.*"
                                          r"rule 'tiki-taka' takes: name, learning_rate, bl, update_management"):
        config_from_dict({"rule": {"name": "tiki-taka", "rank": 2}, "tile": {}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) bogus in \[rule\]; rule 'sgd' takes: name, learning_rate"):
        config_from_dict({"rule": {"bogus": 1}})


def test_the_trainer_asks_no_rule_what_it_is():
    from memspice.learn import trainer

    assert "hasattr(rule" not in inspect.getsource(trainer) and ".counters =" not in inspect.getsource(trainer)
