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
