"""The value judge: a language model scores actions for the 20 values and for harm.

* :class:`agents.judge.judge.ValueJudge`: scores through any model backend, shared prefix first;
* :mod:`agents.judge.prompts`: the versioned prompt formats;
* :mod:`agents.judge.cache`: the score cache (memory and disk);
* :mod:`agents.judge.score_run`: judging a finished run's trajectory (``s2b score``).

Heavy modules (torch, transformers) are imported only when a backend is built.
"""

from __future__ import annotations

from agents.judge.cache import ScoreCache, cache_key
from agents.judge.judge import JudgeInput, JudgeScore, LabelTokenError, ValueJudge, judge_id
from agents.judge.prompts import DEFAULT_FORMAT, FORMATS, PromptFormat, get_format

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "JudgeInput",
    "JudgeScore",
    "LabelTokenError",
    "PromptFormat",
    "ScoreCache",
    "ValueJudge",
    "cache_key",
    "get_format",
    "judge_id",
]
