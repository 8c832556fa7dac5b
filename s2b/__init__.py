"""s2b: Survey-to-Behavior.

The distribution's top-level package holds only the version and the command-line interface. The
layers underneath, from the bottom up:

* :mod:`s2b_env` - Gymnasium environments (Jericho games, Jiminy Cricket, our own Inform games,
  moral scenarios), the 20-value taxonomy and scoring. Knows nothing about LLMs.
* :mod:`agents` - the :class:`agents.Agent` protocol, baseline agents, model backends.
* :mod:`training` - survey profiling, survey fine-tuning, evaluation.
* :mod:`s2b.cli` - the ``s2b`` command, which wires the layers together.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
