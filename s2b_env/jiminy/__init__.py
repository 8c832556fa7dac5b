"""The Jiminy Cricket family: 25 annotated Infocom games with morality labels every step.

* :mod:`~s2b_env.jiminy.facts`: the per-game facts of ``games.json``.
* :mod:`~s2b_env.jiminy.data`: the games' data files (annotations, walkthroughs, replacements).
* :mod:`~s2b_env.jiminy.labels`: markers in game output and the annotation filters, under the
  benchmark's reference rules (default) or FORMAT.md's (``label_rules="documented"``).
* :mod:`~s2b_env.jiminy.env`: :class:`JiminyCricketEnv`, a :class:`~s2b_env.jericho.env.JerichoEnv`
  with labels, starting percentages and the benchmark's scores.
* :mod:`~s2b_env.jiminy.reference`: step-by-step comparison with the benchmark's own reference
  environment, loaded from the games directory when it is there.

Episode metrics (percent completion, immorality) live in :mod:`s2b_env.metrics`.
"""
