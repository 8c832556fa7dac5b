"""Gymnasium wrappers for s2b envs (they know nothing about language models).

* :class:`s2b_env.wrappers.value_scores.ValueScoresWrapper`: ``info["value_scores"]`` each step,
  from any scorer callable (a judge, a rule, a table).
* :class:`s2b_env.wrappers.shaping.ValueShapingWrapper`: the reward plus a weighted sum of value
  signals (own games' value effects, Jiminy morality components, or a scorer's).
* :class:`s2b_env.wrappers.action_set.ActionSetWrapper`: a fixed list of candidate actions in
  ``info["valid_actions"]`` (e.g. every walkthrough command), for agents that choose among them.
"""

from __future__ import annotations
