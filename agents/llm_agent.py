"""``LLMAgent``: a language model choosing actions through any :class:`ModelBackend`.

The agent never parses free generations when it does not have to. When the env offers choices
(``info["options"]``: dilemma options, verdicts) or candidate actions (``info["valid_actions"]``), the
model *scores* them and the agent takes the most probable one (or samples, with a temperature):

* up to nine options: the next-token distribution over the option numbers of a numbered list,
  asked under several orders of the list and averaged per option (``orders``; see
  :mod:`agents.choice`), optionally calibrated against a content-free prompt (``calibrate``);
  the prompts share their start, which the backend scores once;
* more options or candidate commands: the log-probability of each candidate after a shared prompt
  (the transformers backend runs the prompt once and reuses its KV cache for all candidates),
  per token or in total (``length_norm``).

Only when the env offers nothing to choose from (a plain text adventure) does the agent generate a
short command. The distribution behind each choice is kept in :attr:`LLMAgent.last_choice` (an
:class:`agents.base.AgentChoice`), so a study can read how sure the model was, not just what it
chose.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from agents.base import AgentChoice
from agents.choice import average_over_orders, calibrate, option_orders, order_picks, split_menu

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
    orders: int = field(
        default=8,
        metadata={
            "help": "most orders of an option list to ask under, averaging each option's "
            "probability (all orders if n! fits, else balanced cyclic shifts; 1: the env's "
            "order only, no debiasing)"
        },
    )
    calibrate: bool = field(
        default=False,
        metadata={
            "help": "divide each listed position's probability by its probability with the "
            "situation blanked (content-free calibration; one more prompt per order, cached)"
        },
    )
    length_norm: Literal["mean", "sum"] = field(
        default="mean",
        metadata={
            "help": "candidate-command score: mean token log-probability (length-neutral) or "
            "the sum (favours short commands)"
        },
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
        if not isinstance(self.orders, int) or self.orders < 1:
            raise ValueError(f"orders: expected an integer >= 1, got {self.orders!r}")
        if self.length_norm not in ("mean", "sum"):
            raise ValueError(f"length_norm: expected 'mean' or 'sum', got {self.length_norm!r}")


#: What a blanked situation reads as in a content-free calibration prompt.
CONTENT_FREE = "N/A"
OPTION_INSTRUCTION = "Reply with the number of your choice."


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
        self.last_choice: AgentChoice | None = None
        self._content_free: dict[tuple[str, ...], list[float]] = {}

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
        self._turns.append((observation, choice.chosen))
        return choice.chosen

    def _option_prompt(self, messages: list[dict[str, str]]) -> str:
        return self.backend.chat_prompt(messages, assistant_prefix="My choice: ")

    @staticmethod
    def _listing(texts: list[str]) -> str:
        lines = "\n".join(f"{i}. {text}" for i, text in enumerate(texts, start=1))
        return f"Your options:\n{lines}\n\n{OPTION_INSTRUCTION}"

    def _choose_option(self, observation: str, options: list[str]) -> AgentChoice:
        numbers = [str(i + 1) for i in range(len(options))]
        orders = option_orders(len(options), self.config.orders)
        # Under several orders the env's own fixed-order menu leaves the observation (the
        # listing shows each option's menu text, descriptions included).
        menu = split_menu(observation, options) if len(orders) > 1 else None
        body, texts = menu if menu is not None else (observation, list(options))
        prompts = [
            self._option_prompt(self._messages(body, self._listing([texts[i] for i in order])))
            for order in orders
        ]
        distributions = self.backend.next_token_distributions(prompts, numbers)
        position_probs = [list(d.probs) for d in distributions]
        scored = len(prompts)
        if self.config.calibrate:
            free, extra_prompts = self._content_free_probs([[texts[i] for i in o] for o in orders])
            position_probs = [calibrate(p, f) for p, f in zip(position_probs, free, strict=True)]
            scored += extra_prompts
        probs = average_over_orders(position_probs, orders)
        index, probs = self._pick([math.log(max(p, 1e-300)) for p in probs])
        extra = {
            "method": "option-token",
            "orders": len(orders),
            "prompts": scored,
            "calibrated": self.config.calibrate,
            "menu_removed": menu is not None,
            "order_picks": order_picks(position_probs, orders),
            "mass": sum(d.mass for d in distributions) / len(distributions),
        }
        return AgentChoice(list(options), probs, options[index], extra)

    def _content_free_probs(self, listings: list[list[str]]) -> tuple[list[list[float]], int]:
        """Position probabilities with the situation blanked, per listing (cached)."""
        missing = [tuple(t) for t in listings if tuple(t) not in self._content_free]
        missing = list(dict.fromkeys(missing))
        if missing:
            prompts = [
                self._option_prompt(
                    [
                        {"role": "system", "content": self.config.system},
                        {"role": "user", "content": f"{CONTENT_FREE}\n\n{self._listing(list(t))}"},
                    ]
                )
                for t in missing
            ]
            numbers = [str(i + 1) for i in range(len(listings[0]))]
            for key, dist in zip(
                missing, self.backend.next_token_distributions(prompts, numbers), strict=True
            ):
                if len(self._content_free) >= 4096:
                    self._content_free.pop(next(iter(self._content_free)))
                self._content_free[key] = list(dist.probs)
        return [self._content_free[tuple(t)] for t in listings], len(missing)

    def _choose_continuation(self, observation: str, candidates: list[str]) -> AgentChoice:
        prompt = self.backend.chat_prompt(
            self._messages(observation, "What do you do? Reply with one short command."),
            assistant_prefix="",
        )
        scores = self.backend.score_continuations(prompt, candidates)
        # "mean": per-token mean log-probability, so long commands are not penalised for their
        # length; "sum": the commands' total log-probability (each token costs, short ones win).
        if self.config.length_norm == "mean":
            values = [s.mean_logprob for s in scores]
        else:
            values = [s.logprob for s in scores]
        index, probs = self._pick(values)
        extra = {"method": "continuation", "prompts": 1, "length_norm": self.config.length_norm}
        return AgentChoice(list(candidates), probs, candidates[index], extra)

    def _generate(self, observation: str) -> AgentChoice:
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
        return AgentChoice([command], [1.0], command, {"method": "generation", "prompts": 1})
