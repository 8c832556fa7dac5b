"""Gymnasium wrappers for s2b envs (they know nothing about language models).

* :class:`s2b_env.wrappers.value_scores.ValueScoresWrapper`: ``info["value_scores"]`` each step,
  from any scorer callable (a judge, a rule, a table).
"""

from __future__ import annotations
