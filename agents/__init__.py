"""Agents: the :class:`Agent` protocol, baseline agents, and (in :mod:`agents.backends`) the
model backends LLM agents use."""

from __future__ import annotations

from agents.base import Agent, AgentFinished
from agents.human import HumanAgent
from agents.llm_agent import LLMAgent, LLMAgentConfig
from agents.random_agent import RandomAgent
from agents.walkthrough import WalkthroughAgent, read_walkthrough

__all__ = [
    "Agent",
    "AgentFinished",
    "HumanAgent",
    "LLMAgent",
    "LLMAgentConfig",
    "RandomAgent",
    "WalkthroughAgent",
    "read_walkthrough",
]
