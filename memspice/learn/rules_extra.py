"""The rules of issue 8, built from a ``[rule]`` table: binary-stochastic, sbe, cbram-sc, tiki-taka.

:func:`memspice.learn.trainer.make_rule` builds the rules of
:mod:`memspice.learn.rules` itself and hands every other name here.
"""

from __future__ import annotations

from memspice.errors import ConfigError, ParameterError
from memspice.learn.rules_binary import BinaryStochastic
from memspice.learn.rules_cbram_sc import CBRAMStochasticComputing
from memspice.learn.rules_sbe import StreamingBatchEigenupdate
from memspice.learn.rules_tiki_taka import TikiTaka
from memspice.learn.stochastic_computing import CBRAMSwitching

EXTRA_RULES = {cls.name: cls for cls in (BinaryStochastic, StreamingBatchEigenupdate, CBRAMStochasticComputing, TikiTaka)}


def make_extra_rule(r):
    """The rule object for a :class:`~memspice.learn.config.RuleConfig` naming one of EXTRA_RULES."""
    try:
        if r.name == "binary-stochastic":
            return BinaryStochastic(r.learning_rate, threshold=r.threshold, sample_inputs=r.sample_inputs)
        if r.name == "sbe":
            return StreamingBatchEigenupdate(
                r.learning_rate, rank=r.rank, bl=r.bl, update_management=r.update_management, pulse_mode=r.pulse_mode
            )
        if r.name == "cbram-sc":
            return CBRAMStochasticComputing(
                r.learning_rate, stream_length=r.stream_length, switching=CBRAMSwitching(amplitude_bits=r.amplitude_bits)
            )
        if r.name == "tiki-taka":
            return TikiTaka(
                r.learning_rate,
                transfer_learning_rate=r.transfer_learning_rate,
                transfer_every=r.transfer_every,
                columns_per_transfer=r.columns_per_transfer,
                bl=r.bl,
                update_management=r.update_management,
                symmetry_pulses=r.symmetry_pulses,
            )
    except ParameterError as exc:
        raise ConfigError(f"[rule]: {exc}") from None
    raise ConfigError(f"rule.name = {r.name!r}: no such rule; choose one of {', '.join(EXTRA_RULES)}")
