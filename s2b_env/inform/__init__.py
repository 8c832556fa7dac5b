"""s2b's own Inform 6 games, with hand-annotated value events.

* :mod:`~s2b_env.inform.build`: compiling the games from ``games/inform`` into the cache.
* :mod:`~s2b_env.inform.data`: value annotations, markers and walkthrough routes.
* :mod:`~s2b_env.inform.env`: :class:`S2BGameEnv`, a :class:`~s2b_env.jericho.env.JerichoEnv` that
  reports value events and their effects on the 20 values.
"""
