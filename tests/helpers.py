"""Helpers shared by the env tests."""

from __future__ import annotations

import gymnasium as gym

from agents import RandomAgent


def rollout(env: gym.Env, seed: int, steps: int) -> list[tuple]:
    """A seeded random-agent episode: the reset's ``(observation, info)``, then one
    ``(action, observation, reward, terminated, truncated, info)`` per step until the end."""
    agent = RandomAgent(seed=seed)
    observation, info = env.reset(seed=seed)
    trace: list[tuple] = [(observation, info)]
    for _ in range(steps):
        action = agent.act(observation, info)
        observation, reward, terminated, truncated, info = env.step(action)
        trace.append((action, observation, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return trace


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT (as Ctrl-C does).

    A job that a non-interactive shell starts in the background (``cmd &``) inherits SIGINT
    *ignored*, and so would every child it spawns: Python then installs no KeyboardInterrupt
    handler and the signal does nothing. The child gets the default disposition, as in a terminal.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
