"""DRRN (He et al. 2016): a learning agent over candidate actions, its replay memory and trainer.

* :mod:`agents.drrn.model`: the network (state and action encoders, Q from their interaction);
* :mod:`agents.drrn.agent`: :class:`DRRNAgent` (an :class:`agents.base.Agent`; safetensors files;
  optional policy shaping);
* :mod:`agents.drrn.replay`: the replay buffer;
* :mod:`agents.drrn.trainer`: :class:`DRRNTrainer` and :func:`evaluate`.

Names load lazily (they import torch).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "DRRNAgent": "agents.drrn.agent",
    "PolicyShaping": "agents.drrn.agent",
    "DRRNNetConfig": "agents.drrn.model",
    "ReplayBuffer": "agents.drrn.replay",
    "DRRNTrainer": "agents.drrn.trainer",
    "TrainConfig": "agents.drrn.trainer",
    "evaluate": "agents.drrn.trainer",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agents.drrn' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = list(_LAZY)
