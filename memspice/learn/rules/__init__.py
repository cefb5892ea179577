"""Update rules: each turns a mini-batch's (inputs, errors) into weight changes; one module per rule.

What a rule is (the :class:`Rule` base class the trainer codes to, and
:class:`RuleConfig`): :mod:`memspice.learn.rules.base`. The one list of rules
and building a rule from a ``[rule]`` table: :mod:`memspice.learn.rules.registry`.
Each rule's ``[rule]`` keys are the documented fields of its config class
(``[rule] name``: rule class, config class, module):

* "sgd": FloatSGD, SGDConfig (:mod:`.sgd`)
* "stochastic-coincidence": StochasticCoincidence, StochasticCoincidenceConfig (:mod:`.stochastic_coincidence`)
* "mixed-precision": MixedPrecision, MixedPrecisionConfig (:mod:`.mixed_precision`)
* "binary-stochastic": BinaryStochastic, BinaryStochasticConfig (:mod:`.binary_stochastic`)
* "sbe": StreamingBatchEigenupdate, SBEConfig (:mod:`.sbe`)
* "cbram-sc": CBRAMStochasticComputing, CBRAMStochasticComputingConfig (:mod:`.cbram_sc`)
* "tiki-taka": TikiTaka, TikiTakaConfig (:mod:`.tiki_taka`)

The pulse trains that stochastic coincidence, SBE and Tiki-Taka share (and
their common keys ``bl``, ``update_management``): :mod:`.pulse_trains`.
"""

from memspice.learn.rules.base import Rule, RuleConfig
from memspice.learn.rules.binary_stochastic import BinaryStochastic, BinaryStochasticConfig, exponential_levels_params
from memspice.learn.rules.cbram_sc import CBRAMStochasticComputing, CBRAMStochasticComputingConfig
from memspice.learn.rules.mixed_precision import MixedPrecision, MixedPrecisionConfig, default_epsilon
from memspice.learn.rules.pulse_trains import PulseTrainConfig, PulseTrains, coincidences
from memspice.learn.rules.registry import RULES, RuleEntry, build_rule, rule_config_dict, rule_config_from_table
from memspice.learn.rules.sbe import SBEConfig, StreamingBatchEigenupdate
from memspice.learn.rules.sgd import FloatSGD, SGDConfig
from memspice.learn.rules.stochastic_coincidence import StochasticCoincidence, StochasticCoincidenceConfig
from memspice.learn.rules.tiki_taka import TikiTaka, TikiTakaConfig

__all__ = [
    "RULES", "BinaryStochastic", "BinaryStochasticConfig", "CBRAMStochasticComputing",
    "CBRAMStochasticComputingConfig", "FloatSGD", "MixedPrecision", "MixedPrecisionConfig", "PulseTrainConfig",
    "PulseTrains", "Rule", "RuleConfig", "RuleEntry", "SBEConfig", "SGDConfig", "StochasticCoincidence",
    "StochasticCoincidenceConfig", "StreamingBatchEigenupdate", "TikiTaka", "TikiTakaConfig", "build_rule",
    "coincidences", "default_epsilon", "exponential_levels_params", "rule_config_dict", "rule_config_from_table",
]
