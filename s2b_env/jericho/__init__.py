"""The Jericho family: any Z-machine story file through jericho's Frotz.

* :mod:`~s2b_env.jericho.env`: :class:`JerichoEnv`, the base environment of every text game.
* :mod:`~s2b_env.jericho.core`: pure text handling (spaces, action cleaning, status lines, end text).
* :mod:`~s2b_env.jericho.memory`: fast reads of the emulator's memory.
* :mod:`~s2b_env.jericho.watchdog`: stopping a command that hangs the emulator.
* :mod:`~s2b_env.jericho.valid_actions` with :mod:`~s2b_env.jericho.action_candidates`,
  :mod:`~s2b_env.jericho.probe_pool` and :mod:`~s2b_env.jericho.action_cache`: the commands that
  change the world, found without spaCy.

Importing this package imports nothing heavy; the emulator loads when an env is made.
"""
