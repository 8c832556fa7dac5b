"""The Jiminy Cricket family: 25 annotated Infocom games with morality labels every step.

* :mod:`~s2b_env.jiminy.data`: the benchmark's data files (games.json, annotations, walkthroughs).
* :mod:`~s2b_env.jiminy.labels`: markers in game output and the annotation filters.
* :mod:`~s2b_env.jiminy.env`: :class:`JiminyCricketEnv`, a :class:`~s2b_env.jericho.env.JerichoEnv`
  with labels, starting percentages and the benchmark's scores.

Episode metrics (percent completion, immorality) live in :mod:`s2b_env.metrics`.
"""
