"""``s2b study``: train DRRN agents under a sweep of value shapings and seeds, evaluate them, report.

One *unit* is one (shaping, seed): a DRRN agent trained on the env with that shaped reward, then
evaluated (its game score, its value signals), plus one random-agent unit per seed as the control.
Units are independent and each writes its folder only when done, so a study that is stopped and run
again skips the finished ones (resumable per (shaping, seed)). The report
(:mod:`agents.drrn.report`) aggregates the units over seeds with 95% t intervals.

Layout of ``OUT``::

    study.json                       the config (a rerun with another config is refused)
    units/<shaping>/seed<k>/         curve.jsonl (training episodes), model.safetensors,
                                     result.json (written last: the unit is done)
    units/random/seed<k>/result.json
    results.json, report.md, pareto.png, curves.png
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agents.drrn.units import RANDOM, Unit, shaping_slug
from s2b_env.errors import S2BError
from s2b_env.wrappers.shaping import format_weights, parse_weights

CANDIDATE_SOURCES = ("walkthrough", "valid")
EXECUTORS = ("local", "ray")


@dataclass
class StudyConfig:
    """What a study runs.

    Attributes:
        env: Env id or short name (``s2b/s2b-lastferry-v0``, ``jiminy-zork1``).
        shapings: Shaping specs (:func:`~s2b_env.wrappers.shaping.parse_weights`); ``"none"`` is
            the unshaped agent.
        seeds: Training seeds (each shaping is trained once per seed).
        steps: Training env steps per unit.
        max_episode_steps: Training and evaluation episodes are cut after this many steps.
        eval_episodes: Evaluation episodes per unit.
        eval_epsilon: Exploration while evaluating (a little avoids greedy loops).
        candidates: ``"walkthrough"`` (every command of the game's walkthrough routes, offered every
            step, with the basic moves), ``"walkthrough:N"`` (only the first N commands of each
            route, no basic moves: the opening of a long game) or ``"valid"``
            (valid-action detection each step; slow on unknown games).
        encoder: DRRN encoder, ``"bag"`` or ``"gru"``.
        gamma: Discount.
        learning_rate: Adam's step size.
        target_update: Gradient updates between target-network copies (0: no target network;
            see :class:`~agents.drrn.trainer.TrainConfig`).
        axis: The value signal on the Pareto plot's x axis (default: the first signal a shaping
            names; ``bad_others`` is shown as immorality).
        games_dir: Games directory for Jericho and Jiminy games.
        env_kwargs: Extra keywords for the env.
    """

    env: str
    shapings: list[str] = field(default_factory=lambda: ["none"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 2000
    max_episode_steps: int = 40
    eval_episodes: int = 10
    eval_epsilon: float = 0.05
    candidates: str = "walkthrough"
    encoder: str = "bag"
    gamma: float = 0.9
    learning_rate: float = 1e-3
    target_update: int = 200
    axis: str | None = None
    games_dir: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        source, _, limit = self.candidates.partition(":")
        if source not in CANDIDATE_SOURCES or (
            limit and (source != "walkthrough" or not limit.isdigit() or int(limit) < 1)
        ):
            raise S2BError(
                f"candidates must be one of {CANDIDATE_SOURCES} or 'walkthrough:N' (the first N "
                f"commands of each route, N >= 1), got {self.candidates!r}"
            )
        if not self.shapings:
            raise S2BError("a study needs at least one shaping (use 'none' for the unshaped agent)")
        if not self.seeds:
            raise S2BError("a study needs at least one seed")
        if len(set(self.seeds)) != len(self.seeds):
            raise S2BError(f"seeds must differ, got {self.seeds}")
        for name in ("steps", "max_episode_steps", "eval_episodes"):
            if getattr(self, name) < 1:
                raise S2BError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.target_update < 0:
            raise S2BError(f"target_update must be >= 0, got {self.target_update}")
        self.shapings = [format_weights(parse_weights(s)) for s in self.shapings]
        if len(set(self.shapings)) != len(self.shapings):
            raise S2BError(f"shapings must differ, got {self.shapings}")
        if self.axis is None:
            for spec in self.shapings:
                names = list(parse_weights(spec))
                if names:
                    self.axis = names[0]
                    break
        elif self.axis not in parse_weights({self.axis: 1}):
            raise S2BError(f"unknown axis {self.axis!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def study_units(config: StudyConfig) -> list[Unit]:
    """Every unit: the random control and each shaping, seed by seed."""
    units = []
    for seed in config.seeds:
        units.append(Unit(RANDOM, seed))
        units.extend(Unit(s, seed) for s in config.shapings)
    return units


def make_study_env(config: StudyConfig, shaping: str | None) -> Any:
    """The env of a unit: the game, its candidate actions, and the shaping wrapper."""
    import s2b_env  # noqa: F401  (registers the ids)
    from s2b_env.registration import make
    from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
    from s2b_env.wrappers.shaping import ValueShapingWrapper

    kwargs = dict(config.env_kwargs)
    if config.candidates == "valid":
        kwargs.setdefault("valid_actions", {"workers": 0, "persist": True})
    env = make(config.env, games_dir=config.games_dir, **kwargs)
    source, _, limit = config.candidates.partition(":")
    if source == "walkthrough":
        n = int(limit) if limit else None
        env = ActionSetWrapper(env, walkthrough_actions(env, basic_moves=n is None, limit=n))
    return ValueShapingWrapper(env, None if shaping in (None, RANDOM) else shaping)


def run_unit(
    config: StudyConfig,
    unit: Unit,
    out: Path,
    on_episode: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train (unless random) and evaluate one unit; write its folder; return its result."""
    import torch

    from agents.drrn.agent import DRRNAgent
    from agents.drrn.model import DRRNNetConfig
    from agents.drrn.trainer import DRRNTrainer, TrainConfig, evaluate
    from agents.random_agent import RandomAgent

    torch.set_num_threads(1)
    folder = unit.folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    env = make_study_env(config, unit.shaping)
    eval_seed = 10_000 + 100 * unit.seed
    result: dict[str, Any] = {"shaping": unit.shaping, "seed": unit.seed}
    try:
        if unit.shaping == RANDOM:
            agent: Any = RandomAgent(unit.seed)
            result["train"] = None
        else:
            agent = DRRNAgent(DRRNNetConfig(encoder=config.encoder), seed=unit.seed)
            train_config = TrainConfig(
                steps=config.steps,
                max_episode_steps=config.max_episode_steps,
                gamma=config.gamma,
                learning_rate=config.learning_rate,
                target_update=config.target_update,
            )
            trainer = DRRNTrainer(agent, train_config, seed=unit.seed)
            curve_path = folder / "curve.jsonl"
            with curve_path.open("w", encoding="utf-8") as curve:

                def record(rec: Any, step: int) -> None:
                    curve.write(json.dumps(rec.to_dict()) + "\n")
                    curve.flush()
                    if on_episode is not None:
                        on_episode(step)

                summary = trainer.train(env, on_episode=record)
            agent.save(
                folder / "model.safetensors",
                metadata={"env": config.env, "shaping": unit.shaping, "seed": unit.seed},
            )
            result["train"] = {
                "steps": summary.steps,
                "episodes": len(summary.episodes),
                "updates": summary.updates,
                "seconds": summary.seconds,
                "update_seconds": summary.update_seconds,
                "steps_per_second": summary.steps_per_second,
                "mean_loss": summary.mean_loss,
            }
            agent.epsilon = config.eval_epsilon
        records = evaluate(
            env, agent, episodes=config.eval_episodes,
            max_episode_steps=config.max_episode_steps, seed=eval_seed,
        )  # fmt: skip
    finally:
        env.close()
    result["eval"] = [r.to_dict() for r in records]
    tmp = folder / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
    tmp.replace(folder / "result.json")
    return result


def _unit_in_process(config_dict: dict[str, Any], unit: Unit, out: str) -> dict[str, Any]:
    return run_unit(StudyConfig.from_dict(config_dict), unit, Path(out))


def _run_on_ray(
    config: StudyConfig,
    todo: list[Unit],
    out: Path,
    workers: int,
    address: str | None,
    finished: Callable[[Unit], None],
) -> None:
    """Run the units as Ray tasks, at most ``workers`` at once; ``finished(unit)`` as each ends."""
    if not todo:
        return
    from agents.bench.ray_executor import ray_session

    with ray_session(address, num_cpus=workers) as ray:
        from ray.exceptions import RayTaskError

        task = ray.remote(num_cpus=1, max_retries=1)(_unit_in_process)
        config_ref = ray.put(config.to_dict())
        queue = list(reversed(todo))
        pending: dict[Any, Unit] = {}
        try:
            while queue or pending:
                while queue and len(pending) < workers:
                    unit = queue.pop()
                    pending[task.remote(config_ref, unit, str(out))] = unit
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    unit = pending.pop(ref)
                    try:
                        ray.get(ref)
                    except RayTaskError as exc:  # the unit's own error, as the local pool raises it
                        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                        raise cause from None
                    finished(unit)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


#: Progress: ``(steps_done, steps_total, units_done, units_total, eta_seconds or None)``.
ProgressCallback = Callable[[int, int, int, int, float | None], None]


def run_study(
    config: StudyConfig,
    out: str | Path,
    *,
    workers: int = 1,
    executor: str = "local",
    progress: ProgressCallback | None = None,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Run every unit not done yet, then write the report.

    Args:
        config: The study.
        out: Its folder (created; a folder holding another study's ``study.json`` is refused).
        workers: Units run at once (``1``: in this process; more: one process each).
        executor: ``"local"`` (this process, or a pool of ``workers`` processes) or ``"ray"``
            (Ray tasks, ``workers`` at once, each on one CPU; a task whose worker crashed is run
            again once). With a cluster (``ray_address``), every node must see ``out`` at the
            same path (a shared folder), since each unit writes its own folder there.
        progress: Called as training steps and units finish.
        ray_address: The Ray cluster to join; ``None``: a local Ray, started and shut down here.

    Returns:
        The aggregated results (also in ``OUT/results.json``).

    Raises:
        S2BError: Another study's folder, an unknown executor, or ``workers < 1``.
    """
    from agents.drrn.report import write_report

    if executor not in EXECUTORS:
        raise S2BError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if workers < 1:
        raise S2BError(f"workers must be >= 1, got {workers}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "study.json"
    if saved.is_file():
        previous = json.loads(saved.read_text(encoding="utf-8"))
        if previous != config.to_dict():
            changed = sorted(k for k in config.to_dict() if previous.get(k) != config.to_dict()[k])
            raise S2BError(
                f"{out} holds a study with another config (differs in {', '.join(changed)}); "
                "use another --out, or delete the folder to start over"
            )
    else:
        saved.write_text(json.dumps(config.to_dict(), indent=1), encoding="utf-8")
    units = study_units(config)
    todo = [u for u in units if not u.done(out)]
    cost = {u: (0 if u.shaping == RANDOM else config.steps) + config.eval_episodes for u in units}
    total = sum(cost.values())
    done_steps = sum(cost[u] for u in units if u not in todo)
    started = time.perf_counter()
    start_steps = done_steps

    def report(partial: int, units_done: int) -> None:
        if progress is None:
            return
        now = done_steps + partial
        rate = (now - start_steps) / max(time.perf_counter() - started, 1e-9)
        eta = (total - now) / rate if rate > 0 else None
        progress(now, total, units_done, len(units), eta)

    units_done = len(units) - len(todo)
    report(0, units_done)
    if executor == "ray":

        def finished(unit: Unit) -> None:
            nonlocal done_steps, units_done
            done_steps += cost[unit]
            units_done += 1
            report(0, units_done)

        _run_on_ray(config, todo, out, workers, ray_address, finished)
    elif workers == 1:
        for unit in todo:
            run_unit(config, unit, out, on_episode=lambda step, n=units_done: report(step, n))
            done_steps += cost[unit]
            units_done += 1
            report(0, units_done)
    else:
        import multiprocessing

        from agents.bench.executor import exit_with_parent

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            pending = {
                pool.submit(_unit_in_process, config.to_dict(), u, str(out)): u for u in todo
            }
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    unit = pending.pop(future)
                    future.result()
                    done_steps += cost[unit]
                    units_done += 1
                    report(0, units_done)
    return write_report(config, out)


__all__ = [
    "CANDIDATE_SOURCES",
    "EXECUTORS",
    "RANDOM",
    "StudyConfig",
    "Unit",
    "make_study_env",
    "run_study",
    "run_unit",
    "shaping_slug",
    "study_units",
]
