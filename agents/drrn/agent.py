"""``DRRNAgent``: a Deep Reinforcement Relevance Network agent over candidate actions.

The agent reads candidates from ``info["valid_actions"]`` (valid-action detection, or a fixed set
from :class:`s2b_env.wrappers.action_set.ActionSetWrapper`), scores each with its
:class:`~agents.drrn.model.DRRNNet`, and acts epsilon-greedily. It implements the
:class:`agents.base.Agent` protocol, so a trained agent runs in ``s2b run``'s episodes like any
other; :mod:`agents.drrn.trainer` trains it.

Optional policy shaping, as Jiminy Cricket's "artificial conscience" does it (Hendrycks et al.
2021): a scorer flags candidate actions, and every action whose score is above ``threshold`` has
its Q lowered by ``weight`` before the choice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.drrn.context import EpisodeContext
from agents.drrn.model import DRRNNet, DRRNNetConfig, tokenize
from s2b_env.errors import DataError, S2BError

#: Version of the saved-file layout (in the safetensors metadata).
FORMAT_VERSION = 1
#: Used when an env offers no candidates (the game is over, or nothing was found).
FALLBACK_ACTION = "look"

#: Scores candidate actions: ``(observation, candidates) -> one score per candidate``.
ActionScorer = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass
class PolicyShaping:
    """Lower the Q of flagged actions (Jiminy Cricket's artificial conscience).

    Attributes:
        scorer: ``(observation, candidates) -> scores``, e.g. a judge's probability that each
            action is immoral.
        threshold: Actions scoring above this are flagged.
        weight: How much a flagged action's Q is lowered.
    """

    scorer: ActionScorer
    threshold: float = 0.5
    weight: float = 10.0

    def penalties(self, observation: str, candidates: Sequence[str]) -> np.ndarray:
        """``weight`` for every flagged candidate, else 0."""
        scores = np.asarray(list(self.scorer(observation, candidates)), dtype=float)
        if scores.shape != (len(candidates),):
            raise S2BError(
                f"policy-shaping scorer returned {scores.size} scores for {len(candidates)} "
                "candidate actions; it must return one per candidate"
            )
        return np.where(scores > self.threshold, self.weight, 0.0)


def state_text(observation: str, info: dict[str, Any], room_text: str | None = None) -> str:
    """What the network reads as the state: room, score, observation, inventory, room description.

    The observation alone is a step's reply ("Taken."), which says little about where the game
    is; the room name, the inventory (when the env gives it) and the room's description (the text
    printed on entering it, kept by :class:`~agents.drrn.context.EpisodeContext`) disambiguate it,
    as the Jericho DRRN's look and inventory texts do. Long texts are cut at the end by the
    tokenizer, so the description comes last.
    """
    parts = []
    location = info.get("location")
    if location:
        parts.append(f"room: {location}")
    if info.get("score") is not None:
        parts.append(f"score: {info['score']}")
    parts.append(observation)
    inventory = info.get("inventory")
    if inventory:
        items = inventory if isinstance(inventory, str) else ", ".join(map(str, inventory))
        parts.append(f"carrying: {items}")
    if room_text and " ".join(room_text.split()) != " ".join(observation.split()):
        parts.append(f"here: {room_text}")
    return " | ".join(parts)


class DRRNAgent:
    """A DRRN agent.

    Args:
        net_config: The network's shape (default :class:`DRRNNetConfig`).
        seed: Seeds the network's initial weights and the agent's exploration generator.
        epsilon: Probability of a uniformly random candidate at each :meth:`act` (0: greedy).
        policy_shaping: Optional :class:`PolicyShaping`.
        avoid_spent: Skip candidates that changed nothing where the agent is (see
            :class:`~agents.drrn.context.EpisodeContext`) while other candidates remain.

    Attributes:
        net: The network (train it with :class:`agents.drrn.trainer.DRRNTrainer`).
        last_choice: What the last :meth:`act` considered (an ``AgentChoice`` when
            ``agents.base`` defines it, else a dict with the same fields).
    """

    def __init__(
        self,
        net_config: DRRNNetConfig | None = None,
        *,
        seed: int | None = 0,
        epsilon: float = 0.0,
        policy_shaping: PolicyShaping | None = None,
        avoid_spent: bool = True,
    ) -> None:
        self.net_config = net_config or DRRNNetConfig()
        self.seed = seed
        if seed is not None:
            torch.manual_seed(seed)
        self.net = DRRNNet(self.net_config)
        self.net.eval()
        self.epsilon = float(epsilon)
        self.policy_shaping = policy_shaping
        self.avoid_spent = avoid_spent
        #: The episode's room description and spent actions (fed by :meth:`reset` and :meth:`act`).
        self.context = EpisodeContext()
        self._last_action: str | None = None
        self._rng = np.random.default_rng(seed)
        self.last_choice: Any = None
        #: What :meth:`save` was given as ``metadata`` (after :meth:`load`).
        self.metadata: dict[str, Any] = {}

    # ------------------------------------------------------------------ Agent protocol

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Start an episode: forget the last one's room and spent actions."""
        self.last_choice = None
        self._last_action = None
        self.context.reset(observation, info or {})

    def reseed(self, seed: int | None) -> None:
        """Restart the exploration generator from ``seed``."""
        self._rng = np.random.default_rng(seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """An epsilon-greedy choice among ``info["valid_actions"]`` (less the spent ones)."""
        if self._last_action is not None:
            self.context.update(self._last_action, observation, info)
        candidates = self.candidates(info)
        if not candidates:
            self.last_choice = None
            self._last_action = FALLBACK_ACTION
            return FALLBACK_ACTION
        q = self.q_values(observation, info, candidates, room_text=self.context.room_text)
        allowed = (
            self.context.allowed(candidates) if self.avoid_spent else list(range(len(candidates)))
        )
        probs = self._policy(q, allowed)
        if self.epsilon > 0 and self._rng.random() < self.epsilon:
            # Explore what this visit has not tried yet (every candidate without avoid_spent).
            pool = self.context.untried(candidates) if self.avoid_spent else allowed
            index = pool[int(self._rng.integers(len(pool)))]
        else:
            index = allowed[int(np.argmax(q[allowed]))]
        self.last_choice = _make_choice(
            candidates,
            probs.tolist(),
            candidates[index],
            {"q": q.tolist(), "epsilon": self.epsilon, "spent": sorted(self.context.spent)},
        )
        self._last_action = candidates[index]
        return candidates[index]

    # ------------------------------------------------------------------ scoring

    @staticmethod
    def candidates(info: dict[str, Any]) -> list[str]:
        """The candidate actions of a step: ``info["valid_actions"]``."""
        return list(info.get("valid_actions") or [])

    def tokenize_state(
        self, observation: str, info: dict[str, Any], room_text: str | None = None
    ) -> tuple[int, ...]:
        """Token ids of the state (:func:`state_text`)."""
        c = self.net_config
        text = state_text(observation, info, room_text)
        return tuple(tokenize(text, c.vocab_size, c.max_state_tokens))

    def tokenize_action(self, action: str) -> tuple[int, ...]:
        """Token ids of an action."""
        c = self.net_config
        return tuple(tokenize(action, c.vocab_size, c.max_action_tokens))

    def q_values(
        self,
        observation: str,
        info: dict[str, Any],
        candidates: Sequence[str],
        room_text: str | None = None,
    ) -> np.ndarray:
        """Q of each candidate, after policy shaping."""
        with torch.no_grad():
            (q,) = self.net.q_values(
                [self.tokenize_state(observation, info, room_text)],
                [[self.tokenize_action(a) for a in candidates]],
            )
        values = q.numpy().astype(float)
        if self.policy_shaping is not None:
            values = values - self.policy_shaping.penalties(observation, candidates)
        return values

    def _policy(self, q: np.ndarray, allowed: list[int]) -> np.ndarray:
        probs = np.zeros(len(q))
        probs[allowed] = self.epsilon / len(allowed)
        probs[allowed[int(np.argmax(q[allowed]))]] += 1.0 - self.epsilon
        return probs

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Save the network as safetensors; its shape and ``metadata`` go in the file's header."""
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": "s2b-drrn",
            "format_version": str(FORMAT_VERSION),
            "net_config": json.dumps(self.net_config.to_dict()),
            "metadata": json.dumps(metadata or {}),
        }
        tensors = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        tmp = path.with_name(path.name + ".tmp")
        save_file(tensors, str(tmp), metadata=header)
        tmp.replace(path)
        return path

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        seed: int | None = 0,
        epsilon: float = 0.0,
        policy_shaping: PolicyShaping | None = None,
        avoid_spent: bool = True,
    ) -> DRRNAgent:
        """Load an agent saved by :meth:`save`.

        Raises:
            FileNotFoundError: No such file.
            DataError: The file is not an s2b DRRN file or does not match its stated shape.
        """
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no DRRN weights at {path}")
        try:
            with safe_open(str(path), framework="pt") as f:
                header = f.metadata() or {}
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise DataError(path, f"not a safetensors file ({exc})") from None
        if header.get("format") != "s2b-drrn":
            raise DataError(path, "not an s2b DRRN file (no 'format: s2b-drrn' in its header)")
        if header.get("format_version") != str(FORMAT_VERSION):
            raise DataError(
                path,
                f"DRRN file format {header.get('format_version')!r}; this s2b reads "
                f"{FORMAT_VERSION}",
                field="format_version",
            )
        try:
            config = DRRNNetConfig(**json.loads(header["net_config"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(path, f"bad network config ({exc})", field="net_config") from None
        agent = cls(
            config,
            seed=seed,
            epsilon=epsilon,
            policy_shaping=policy_shaping,
            avoid_spent=avoid_spent,
        )
        try:
            agent.net.load_state_dict(tensors)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise DataError(path, f"weights do not match the network config: {first}") from None
        agent.metadata = json.loads(header.get("metadata") or "{}")
        return agent


def _make_choice(candidates: list[str], probs: list[float], chosen: str, extra: dict) -> Any:
    try:
        from agents.base import AgentChoice  # type: ignore[attr-defined]
    except ImportError:
        return {"candidates": candidates, "probabilities": probs, "chosen": chosen, "extra": extra}
    return AgentChoice(candidates=candidates, probabilities=probs, chosen=chosen, extra=extra)


__all__ = ["FALLBACK_ACTION", "ActionScorer", "DRRNAgent", "PolicyShaping", "state_text"]
