"""Moral scenarios: everyday judgments and multi-step dilemmas.

* :mod:`~s2b_env.scenarios.data`: the schema (version 1), validation, loading and the fixed split.
* :mod:`~s2b_env.scenarios.env`: :class:`MoralScenarioEnv` (``s2b/judgment-v0``, ``s2b/dilemma-v0``).
* :mod:`~s2b_env.scenarios.importers`: users' AITA-style CSV and Scruples-style JSONL.
* :mod:`~s2b_env.scenarios.verdicts`: the verdict labels and their parsing.
"""
