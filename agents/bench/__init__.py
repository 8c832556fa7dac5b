"""``s2b bench``: agents against a baseline across envs and seeds, resumable and parallel.

* :mod:`agents.bench.config`: :class:`BenchConfig` and its YAML (:func:`load_bench_config`);
* :mod:`agents.bench.units`: one unit per (agent, env, seed, episode), :func:`play_unit`;
* :mod:`agents.bench.store`: the run folder (``bench.json``, ``units.jsonl``);
* :mod:`agents.bench.executor`: :class:`LocalExecutor`, an asynchronous process pool;
* :mod:`agents.bench.ray_executor`: :class:`RayExecutor`, Ray actors (the ``ray`` extra);
* :mod:`agents.bench.server`: :func:`bench_server`, the one vLLM server of ``backend: vllm``;
* :mod:`agents.bench.runner`: :func:`run_bench`.

Names are exported lazily, so importing the package loads no model library.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AgentSpec": "config",
    "BenchConfig": "config",
    "BenchConfigError": "config",
    "EnvSpec": "config",
    "JudgeSpec": "config",
    "load_bench_config": "config",
    "UnitSpec": "units",
    "plan_units": "units",
    "play_unit": "units",
    "reset_seed": "units",
    "BenchStore": "store",
    "BenchStoreError": "store",
    "Executor": "executor",
    "FatalBenchError": "executor",
    "LocalExecutor": "executor",
    "RayExecutor": "ray_executor",
    "bench_server": "server",
    "serve_bench": "server",
    "BenchObserver": "runner",
    "BenchSummary": "runner",
    "run_bench": "runner",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agents.bench' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agents.bench.{module}"), name)


__all__ = sorted(_EXPORTS)
