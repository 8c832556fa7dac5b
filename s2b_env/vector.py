"""Parallel episodes: Gymnasium's ``AsyncVectorEnv`` over s2b envs, one process per env.

Use :func:`make_async` (or ``gym.make_vec(id, n, vectorization_mode="async",
vector_kwargs={"shared_memory": False})``). Gymnasium 1.x's shared-memory transport does not work
for ``Text`` observation spaces: it reads the shared buffer into a tuple of strings once, when the
vector env is built, so every later observation comes back as that first read (blank text).
Without shared memory the observations travel through the workers' pipes, which is correct.

Each env runs in a daemonic worker process; envs with ``valid_actions`` on probe their candidates
in that process (the workers already use the cores), see :func:`s2b_env.jericho.probe_pool.can_start_workers`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def make_async(env_id: str, num_envs: int, **env_kwargs: Any) -> gym.vector.AsyncVectorEnv:
    """An ``AsyncVectorEnv`` of ``num_envs`` copies of ``env_id``, made with ``env_kwargs``.

    Observations are tuples of strings; ``info`` values are arrays over the envs (with the
    ``_key`` masks Gymnasium adds). Episodes reset on the step after they end (Gymnasium's
    default ``NEXT_STEP`` autoreset).

    Raises:
        ValueError: ``num_envs`` is not a positive int.
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
    env = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="async",
        vector_kwargs={"shared_memory": False},
        **env_kwargs,
    )
    return env  # type: ignore[return-value]


__all__ = ["make_async"]
