"""Agents: the :class:`Agent` protocol and :class:`AgentChoice`, baseline agents, the episode
engine (:mod:`agents.engine`, the one loop that plays episodes), and (in :mod:`agents.backends`) the
model backends LLM agents use."""

from __future__ import annotations

from agents.base import Agent, AgentChoice, AgentFinished
from agents.engine import (
    EpisodeObserver,
    EpisodeResult,
    RunSummary,
    StepEvent,
    run_episode,
    run_episodes,
)
from agents.human import HumanAgent
from agents.llm_agent import LLMAgent, LLMAgentConfig
from agents.random_agent import RandomAgent
from agents.walkthrough import WalkthroughAgent, read_walkthrough

__all__ = [
    "Agent",
    "AgentChoice",
    "AgentFinished",
    "EpisodeObserver",
    "EpisodeResult",
    "HumanAgent",
    "LLMAgent",
    "LLMAgentConfig",
    "RandomAgent",
    "RunSummary",
    "StepEvent",
    "WalkthroughAgent",
    "read_walkthrough",
    "run_episode",
    "run_episodes",
]
