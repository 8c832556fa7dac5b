"""Training and evaluating a :class:`~agents.drrn.agent.DRRNAgent` in a text env.

One-step Q-learning over replayed transitions (He et al. 2016): the target of ``(s, a, r, s')`` is
``r + gamma * max_a' Q(s', a')`` over the next state's candidates (``r`` alone when the game
ended), the loss is the Huber loss, the optimizer Adam, and the exploration epsilon-greedy with a
linear decay. The reward is whatever the env returns, so wrapping the env in
:class:`~s2b_env.wrappers.shaping.ValueShapingWrapper` trains on the shaped reward; the episode
records keep the game's own return (``info["original_reward"]``) and the value signals beside it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from agents.drrn.agent import DRRNAgent
from agents.drrn.context import EpisodeContext
from agents.drrn.replay import ReplayBuffer, Transition
from agents.events import EpisodeObserver, StepEvent
from s2b_env.metrics import percent_completion
from s2b_env.wrappers.shaping import label_signals


@dataclass
class TrainConfig:
    """Hyper-parameters of DRRN training.

    Attributes:
        steps: Env steps to train for.
        max_episode_steps: An episode is cut after this many steps (not a terminal state).
        gamma: Discount.
        learning_rate: Adam's step size.
        batch_size: Transitions per update.
        replay_capacity: Transitions kept in each replay ring.
        priority_fraction: Share of each batch drawn from rewarded transitions.
        epsilon_start: Exploration at step 0.
        epsilon_end: Exploration after the decay.
        epsilon_decay_steps: Steps of the linear decay (default: half of ``steps``).
        learning_starts: Updates start once the replay holds this many transitions.
        update_every: One update every this many env steps.
        clip_grad: Gradient norm clip.
        target_update: Gradient updates between copies of the network into the target network
            that computes the bootstrap ``max_a' Q(s', a')`` (Mnih et al. 2015); 0 bootstraps from
            the network being trained.
    """

    steps: int = 2000
    max_episode_steps: int = 50
    gamma: float = 0.9
    learning_rate: float = 1e-3
    batch_size: int = 32
    replay_capacity: int = 20000
    priority_fraction: float = 0.5
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int | None = None
    learning_starts: int = 64
    update_every: int = 1
    clip_grad: float = 5.0
    target_update: int = 200

    def __post_init__(self) -> None:
        for name in ("steps", "max_episode_steps", "batch_size", "replay_capacity", "update_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("epsilon_start", "epsilon_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.target_update < 0:
            raise ValueError(f"target_update must be >= 0, got {self.target_update}")

    def epsilon(self, step: int) -> float:
        """Exploration at a global step (linear decay, then flat)."""
        decay = self.epsilon_decay_steps or max(1, self.steps // 2)
        frac = min(1.0, step / decay)
        return self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)


@dataclass
class EpisodeRecord:
    """What one episode did.

    Attributes:
        episode: Index in its run.
        end_step: The run's global step count when the episode ended (training only).
        steps: Actions taken.
        score: The game's score at the end (``info["score"]``), if it has one.
        start_score: The score after reset.
        percent_completion: Score gained over what was left to gain, in percent, if known.
        original_return: Sum of the game's own rewards.
        shaped_return: Sum of the rewards the agent was trained on (equal when unshaped).
        signals: Episode sums of the env's label signals (value ids, Jiminy components).
        terminated: The game ended.
        victory: The game was won.
    """

    episode: int
    end_step: int = 0
    steps: int = 0
    score: float | None = None
    start_score: float | None = None
    percent_completion: float | None = None
    original_return: float = 0.0
    shaped_return: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    victory: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Episode:
    """Accumulates one episode's record from reset and step infos."""

    def __init__(self, index: int, info: dict[str, Any]) -> None:
        self.record = EpisodeRecord(episode=index, start_score=info.get("score"))
        self.max_score = info.get("max_score")

    def add(self, reward: float, terminated: bool, info: dict[str, Any]) -> None:
        r = self.record
        r.steps += 1
        r.shaped_return += float(reward)
        r.original_return += float(info.get("original_reward", reward))
        for name, x in label_signals(info).items():
            r.signals[name] = r.signals.get(name, 0.0) + x
        r.score = info.get("score")
        r.terminated = bool(terminated)
        r.victory = bool(info.get("victory", False))
        if info.get("max_score") is not None:
            self.max_score = info["max_score"]

    def finish(self, end_step: int) -> EpisodeRecord:
        r = self.record
        r.end_step = end_step
        if None not in (r.start_score, r.score, self.max_score):
            r.percent_completion = percent_completion(r.start_score, r.score, self.max_score)
        return r


@dataclass
class TrainSummary:
    """A training run's episodes and speed.

    Attributes:
        episodes: Every finished training episode.
        steps: Env steps taken.
        updates: Gradient updates made.
        seconds: Wall time of the run.
        update_seconds: Time spent in gradient updates.
        mean_loss: Mean Huber loss over the updates (``None`` without updates).
    """

    episodes: list[EpisodeRecord]
    steps: int
    updates: int
    seconds: float
    update_seconds: float
    mean_loss: float | None

    @property
    def steps_per_second(self) -> float:
        """Env steps per second, updates included."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0


#: Called after each training episode with the record and the run's global step.
EpisodeCallback = Callable[[EpisodeRecord, int], None]


class DRRNTrainer:
    """Trains a DRRN agent.

    Args:
        agent: The agent (its network is trained in place).
        config: Hyper-parameters.
        seed: Seeds the replay sampling, the exploration and the env's first reset.
    """

    def __init__(self, agent: DRRNAgent, config: TrainConfig | None = None, seed: int = 0) -> None:
        self.agent = agent
        self.config = config or TrainConfig()
        self.seed = seed
        self.replay = ReplayBuffer(
            self.config.replay_capacity, self.config.priority_fraction, seed=seed
        )
        self.optimizer = torch.optim.Adam(agent.net.parameters(), lr=self.config.learning_rate)
        #: The bootstrap network (``agent.net`` itself without ``target_update``).
        self.target = copy.deepcopy(agent.net) if self.config.target_update else agent.net
        self.updates = 0
        agent.reseed(seed)

    def update(self) -> float | None:
        """One gradient step on a replayed batch; its loss (``None`` before ``learning_starts``)."""
        c = self.config
        if len(self.replay) < max(c.learning_starts, 1):
            return None
        batch = self.replay.sample(c.batch_size)
        net = self.agent.net
        net.train()
        q = torch.cat(net.q_values([t.state for t in batch], [[t.action] for t in batch]))
        with torch.no_grad():
            live = [t for t in batch if not t.done and t.next_candidates]
            next_max = torch.zeros(len(batch))
            if live:
                qs = self.target.q_values(
                    [t.next_state for t in live], [t.next_candidates for t in live]
                )
                maxes = torch.stack([x.max() for x in qs])
                rows = [i for i, t in enumerate(batch) if not t.done and t.next_candidates]
                next_max[torch.as_tensor(rows)] = maxes
            rewards = torch.tensor([t.reward for t in batch], dtype=torch.float32)
            target = rewards + c.gamma * next_max
        loss = torch.nn.functional.smooth_l1_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), c.clip_grad)
        self.optimizer.step()
        net.eval()
        self.updates += 1
        if c.target_update and self.updates % c.target_update == 0:
            self.target.load_state_dict(net.state_dict())
        return loss.item()

    def train(self, env: Any, *, on_episode: EpisodeCallback | None = None) -> TrainSummary:
        """Train for ``config.steps`` env steps, episodes played by :mod:`agents.engine`.

        Args:
            env: A text env whose ``info["valid_actions"]`` lists candidates every step.
            on_episode: Called after each finished episode (for learning curves and progress).
        """
        from agents.engine import run_episode

        c = self.config
        learner = _Learner(self)
        started = time.perf_counter()
        while learner.step < c.steps:
            index = len(learner.records)
            run_episode(
                env, self.agent, episode_id=index, seed=self.seed if index == 0 else None,
                max_steps=min(c.max_episode_steps, c.steps - learner.step), observers=[learner],
            )  # fmt: skip
            record = learner.finish()
            if on_episode is not None:
                on_episode(record, learner.step)
        self.agent.epsilon = 0.0
        return TrainSummary(
            episodes=learner.records,
            steps=learner.step,
            updates=len(learner.losses),
            seconds=time.perf_counter() - started,
            update_seconds=learner.update_seconds,
            mean_loss=float(np.mean(learner.losses)) if learner.losses else None,
        )


class _Learner(EpisodeObserver):
    """Stores each step's transition, updates the network, sets the next step's epsilon."""

    def __init__(self, trainer: DRRNTrainer) -> None:
        self.trainer = trainer
        self.step = 0
        self.records: list[EpisodeRecord] = []
        self.losses: list[float] = []
        self.update_seconds = 0.0
        self._context = EpisodeContext()
        self._state: tuple[int, ...] = ()
        self._episode: _Episode | None = None

    def on_episode_start(self, episode_id: int, seed: Any, observation: str, info: dict) -> None:
        self._context.reset(observation, info)
        self._state = self.trainer.agent.tokenize_state(observation, info, observation)
        self._episode = _Episode(episode_id, info)
        self.trainer.agent.epsilon = self.trainer.config.epsilon(self.step + 1)

    def on_step(self, event: StepEvent) -> None:
        agent, c = self.trainer.agent, self.trainer.config
        self.step += 1
        assert self._episode is not None
        self._episode.add(event.reward, event.terminated, event.info)
        self._context.update(event.action, event.next_observation, event.info)
        next_state = agent.tokenize_state(
            event.next_observation, event.info, self._context.room_text
        )
        self.trainer.replay.add(
            Transition(
                state=self._state,
                action=agent.tokenize_action(event.action),
                reward=float(event.reward),
                next_state=next_state,
                next_candidates=tuple(
                    agent.tokenize_action(a) for a in agent.candidates(event.info)
                ),
                done=bool(event.terminated),
            )
        )
        self._state = next_state
        if self.step % c.update_every == 0:
            t = time.perf_counter()
            loss = self.trainer.update()
            self.update_seconds += time.perf_counter() - t
            if loss is not None:
                self.losses.append(loss)
        agent.epsilon = c.epsilon(self.step + 1)

    def finish(self) -> EpisodeRecord:
        """Close the episode just played (``run_episode`` calls no ``on_episode_end``)."""
        assert self._episode is not None
        self.records.append(self._episode.finish(self.step))
        return self.records[-1]


class _Recorder(EpisodeObserver):
    """Records evaluation episodes."""

    def __init__(self) -> None:
        self.records: list[EpisodeRecord] = []
        self._episode: _Episode | None = None

    def on_episode_start(self, episode_id: int, seed: Any, observation: str, info: dict) -> None:
        self._episode = _Episode(episode_id, info)

    def on_step(self, event: StepEvent) -> None:
        assert self._episode is not None
        self._episode.add(event.reward, event.terminated, event.info)

    def finish(self) -> None:
        assert self._episode is not None
        self.records.append(self._episode.finish(0))


def evaluate(
    env: Any,
    agent: Any,
    *,
    episodes: int,
    max_episode_steps: int,
    seed: int = 0,
) -> list[EpisodeRecord]:
    """Play ``episodes`` episodes of ``agent`` (any :class:`agents.base.Agent`) and record them.

    Episodes are played by :mod:`agents.engine`: episode ``i`` resets the env with ``seed + i``
    and reseeds the agent (when it can be) with it.
    """
    from agents.engine import run_episode

    recorder = _Recorder()
    for i in range(episodes):
        run_episode(
            env, agent, episode_id=i, seed=seed + i, max_steps=max_episode_steps,
            observers=[recorder],
        )  # fmt: skip
        recorder.finish()
    return recorder.records


__all__ = ["DRRNTrainer", "EpisodeRecord", "TrainConfig", "TrainSummary", "evaluate"]
