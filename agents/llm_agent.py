"""``LLMAgent``: a language model choosing actions through any :class:`ModelBackend`.

The agent never parses free generations when it does not have to. When the env offers choices
(``info["options"]``: dilemma options, verdicts) or candidate actions (``info["valid_actions"]``), the
model *scores* them and the agent takes the most probable one (or samples, with a temperature):

* up to nine options: one forward pass, the next-token distribution over the option numbers;
* more options or candidate commands: the log-probability of each candidate after a shared prompt
  (the transformers backend runs the prompt once and reuses its KV cache for all candidates).

Only when the env offers nothing to choose from (a plain text adventure) does the agent generate a
short command. The distribution behind each choice is kept in :attr:`LLMAgent.last_choice`, so a
study can read how sure the model was, not just what it chose.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_SYSTEM = (
    "You are the person in the story. Read what happens and decide what you would do, as "
    "yourself. Answer with your choice only."
)


@dataclass
class LLMAgentConfig:
    """How an :class:`LLMAgent` prompts and chooses."""

    system: str = field(default=DEFAULT_SYSTEM, metadata={"help": "system message of every prompt"})
    history: int = field(
        default=3,
        metadata={"help": "earlier (observation, action) turns kept in the prompt"},
    )
    temperature: float = field(
        default=0.0,
        metadata={"help": "0: take the most probable choice; > 0: sample from p ** (1 / T)"},
    )
    max_candidates: int = field(
        default=64, metadata={"help": "most candidate actions scored per step"}
    )
    max_new_tokens: int = field(
        default=12, metadata={"help": "length of a generated command (no candidates offered)"}
    )
    max_observation_chars: int = field(
        default=6000, metadata={"help": "longest observation put in a prompt (cut from the start)"}
    )

    def __post_init__(self) -> None:
        if self.history < 0:
            raise ValueError(f"history: expected >= 0, got {self.history}")
        if not self.temperature >= 0:
            raise ValueError(f"temperature: expected >= 0, got {self.temperature}")
        if self.max_candidates < 1:
            raise ValueError(f"max_candidates: expected >= 1, got {self.max_candidates}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens: expected >= 1, got {self.max_new_tokens}")
        if self.max_observation_chars < 100:
            raise ValueError(
                f"max_observation_chars: expected >= 100, got {self.max_observation_chars}"
            )


@dataclass(frozen=True)
class Choice:
    """What the model chose and how probable each candidate was (renormalised over them)."""

    action: str
    candidates: tuple[str, ...]
    probs: tuple[float, ...]
    method: str  # "option-token", "continuation", or "generation"


class LLMAgent:
    """An agent whose choices come from a language model.

    Args:
        backend: A :class:`agents.backends.base.ModelBackend` (in-process or a server).
        config: Prompting and choice settings.
        seed: Seed of the sampling generator (used only with a temperature > 0).
    """

    def __init__(self, backend: Any, config: LLMAgentConfig | None = None, seed: int | None = None):
        self.backend = backend
        self.config = config or LLMAgentConfig()
        self._rng = np.random.default_rng(seed)
        self._turns: deque[tuple[str, str]] = deque(maxlen=self.config.history)
        self.last_choice: Choice | None = None

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Forget the previous episode's turns."""
        self._turns.clear()
        self.last_choice = None

    def reseed(self, seed: int | None) -> None:
        """Restart the sampling generator from ``seed``."""
        self._rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ prompting

    def _messages(self, observation: str, instruction: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.config.system}]
        if self.config.history:
            for past_observation, past_action in self._turns:
                messages.append({"role": "user", "content": self._cut(past_observation)})
                messages.append({"role": "assistant", "content": past_action})
        messages.append({"role": "user", "content": f"{self._cut(observation)}\n\n{instruction}"})
        return messages

    def _cut(self, text: str) -> str:
        limit = self.config.max_observation_chars
        return text if len(text) <= limit else "..." + text[-limit:]

    def _pick(self, logprobs: list[float]) -> tuple[int, list[float]]:
        peak = max(logprobs)
        weights = [math.exp(x - peak) for x in logprobs]
        total = sum(weights)
        probs = [w / total for w in weights]
        if self.config.temperature == 0:
            return int(np.argmax(probs)), probs
        # In log space: probabilities raised to 1/T underflow to 0 for a small T.
        scaled = (np.array(logprobs) - peak) / self.config.temperature
        tempered = np.exp(scaled - scaled.max())
        tempered /= tempered.sum()
        return int(self._rng.choice(len(probs), p=tempered)), probs

    # ------------------------------------------------------------------ acting

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Choose among ``info["options"]`` or ``info["valid_actions"]``, else generate a command."""
        options = list(info.get("options") or [])
        candidates = list(info.get("valid_actions") or [])[: self.config.max_candidates]
        if options and len(options) <= 9:
            choice = self._choose_option(observation, options)
        elif options or candidates:
            choice = self._choose_continuation(observation, options or candidates)
        else:
            choice = self._generate(observation)
        self.last_choice = choice
        self._turns.append((observation, choice.action))
        return choice.action

    def _choose_option(self, observation: str, options: list[str]) -> Choice:
        numbers = [str(i + 1) for i in range(len(options))]
        listing = "\n".join(f"{n}. {label}" for n, label in zip(numbers, options, strict=True))
        instruction = f"Your options:\n{listing}\n\nReply with the number of your choice."
        prompt = self.backend.chat_prompt(
            self._messages(observation, instruction), assistant_prefix="My choice: "
        )
        distribution = self.backend.next_token_distribution(prompt, numbers)
        index, probs = self._pick(list(distribution.logprobs))
        return Choice(options[index], tuple(options), tuple(probs), "option-token")

    def _choose_continuation(self, observation: str, candidates: list[str]) -> Choice:
        prompt = self.backend.chat_prompt(
            self._messages(observation, "What do you do? Reply with one short command."),
            assistant_prefix="",
        )
        scores = self.backend.score_continuations(prompt, candidates)
        # Mean log-probability per token, so long commands are not penalised for their length.
        index, probs = self._pick([s.mean_logprob for s in scores])
        return Choice(candidates[index], tuple(candidates), tuple(probs), "continuation")

    def _generate(self, observation: str) -> Choice:
        prompt = self.backend.chat_prompt(
            self._messages(observation, "What do you do? Reply with one short command."),
            assistant_prefix="",
        )
        generation = self.backend.generate(
            prompt,
            max_new_tokens=self.config.max_new_tokens,
            temperature=self.config.temperature,
            stop=("\n",),
            seed=int(self._rng.integers(2**31)),
        )
        command = generation.text.strip().splitlines()[0].strip() if generation.text.strip() else ""
        command = command.strip(" .\"'`*") or "look"
        return Choice(command, (command,), (1.0,), "generation")
