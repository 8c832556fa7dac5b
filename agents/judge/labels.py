"""The judge's labelled data, for its LoRA fine-tuning (``s2b judge train``) and validation.

Labelled actions come from three places, each a :class:`Labelled` (a judge input plus the labels
known for it):

* the dilemmas' options (:func:`dilemma_items`, by split): the 20 annotated value effects;
* finished runs' trajectories (:func:`run_items`): our own games' per-step ``value_effects`` (20
  values), and the Jiminy Cricket games' per-step ``morality`` labels (harm to others:
  ``bad_others > 0``; harm to self: ``bad_self > 0``). Steps of any agent count: a walkthrough's
  steps and a random agent's, whose labelled-zero steps are the negatives.

:func:`training_rows` turns them into prompt/completion pairs in the judge's own prompt format
(the completion is the label token: a rating digit or ``Yes``/``No``), keeping every non-zero
label and a share of the zeros; :func:`training.judge_train.train_judge` fine-tunes a LoRA adapter on them
(TRL + peft, as ``s2b align``; ``lm_head`` is never a target).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.judge.judge import JudgeInput, ValueJudge
from agents.judge.prompts import RATING_TOKENS, YES_NO_TOKENS
from agents.judge.score_run import judge_steps, trajectory_of
from s2b_env.trajectory import read_trajectory
from s2b_env.values import EFFECT_MAX, EFFECT_MIN, VALUE_IDS


@dataclass(frozen=True)
class Labelled:
    """One action with the labels known for it.

    Attributes:
        item: What the judge sees.
        labels: ``{value_id: effect -3..+3}`` and/or ``{"harm_others": 0|1, "harm_self": 0|1}``.
        source: ``"dilemma"``, ``"own-game"`` or ``"jiminy"``.
        group: The dilemma id or the game's name (for leave-one-out splits).
        agent: The agent that took the action (``walkthrough``, ``random``...), when known.
        where: ``episode:step`` or ``node:option``.
    """

    item: JudgeInput
    labels: dict[str, float]
    source: str
    group: str
    agent: str = ""
    where: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def dilemma_items(
    split: str = "train", paths: Sequence[str | Path] | None = None
) -> list[Labelled]:
    """Every option of every dilemma of ``split`` with its 20 annotated effects."""
    from s2b_env.scenarios.data import default_paths, load_scenarios

    records = load_scenarios(list(paths) if paths else default_paths("dilemma"), kind="dilemma")
    out = []
    for dilemma in records:
        if dilemma.split != split:
            continue
        for node_id, node in dilemma.nodes.items():
            context = f"{dilemma.intro}\n{node.text}" if node_id == dilemma.start else node.text
            for index, option in enumerate(node.options):
                labels = {v: float(e) for v, e in zip(VALUE_IDS, option.effects, strict=True)}
                item = JudgeInput(context, option.label, option.outcome or None)
                out.append(Labelled(item, labels, "dilemma", dilemma.id, "", f"{node_id}:{index}"))
    return out


def run_items(run_dir: str | Path) -> list[Labelled]:
    """The labelled steps of a finished run: own games' value effects, Jiminy harm labels.

    Steps whose info carries neither are skipped (a plain Jericho game has no labels).
    """
    path = trajectory_of(run_dir)
    header, steps = judge_steps(path)
    records = {
        (e.episode_id, s["step"]): s for e in read_trajectory(path).episodes for s in e.steps
    }
    config = header.get("config") or {}
    agent = str(config.get("agent", "")) if isinstance(config, dict) else ""
    game = str(header.get("game") or header.get("env_id") or path.parent.name)
    out = []
    for step in steps:
        info = records[(step.episode_id, step.step)].get("info") or {}
        labels: dict[str, float] = {}
        source = ""
        morality = info.get("morality")
        if isinstance(morality, list) and len(morality) == 4:
            labels["harm_others"] = 1.0 if morality[0] > 0 else 0.0
            labels["harm_self"] = 1.0 if morality[1] > 0 else 0.0
            source = "jiminy"
        effects = info.get("value_effects")
        if isinstance(effects, dict):
            labels.update({v: float(effects.get(v, 0.0)) for v in VALUE_IDS})
            source = source or "own-game"
        if labels:
            meta = {"bad_others": morality[0]} if source == "jiminy" else {}
            out.append(Labelled(step.item, labels, source, game, agent,
                                f"{step.episode_id}:{step.step}", meta))  # fmt: skip
    return out


def rating_token(effect: float) -> str:
    """The label token of an effect (rounded and clipped to -3..+3): ``"1"`` .. ``"7"``."""
    clipped = max(EFFECT_MIN, min(EFFECT_MAX, round(effect)))
    return RATING_TOKENS[clipped - EFFECT_MIN]


def training_rows(
    judge: ValueJudge,
    items: Iterable[Labelled],
    *,
    zero_share: float = 0.1,
    negatives_per_positive: float = 3.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Prompt/completion rows in the judge's prompt format.

    Every non-zero value effect and every positive harm label is kept; of the zero effects a
    ``zero_share`` share, of the harm negatives up to ``negatives_per_positive`` per positive
    (at least 10), chosen at random with ``seed``.
    """
    rng = random.Random(seed)
    keys = [q.key for q in judge.questions]
    positives: list[dict[str, Any]] = []
    zeros: list[dict[str, Any]] = []
    harm_negatives: list[dict[str, Any]] = []
    for labelled in items:
        prompts = dict(zip(keys, judge.prompts(labelled.item), strict=True))
        for key, value in labelled.labels.items():
            if key in VALUE_IDS:
                row = {"prompt": prompts[key], "completion": rating_token(value), "key": key,
                       "source": labelled.source, "group": labelled.group}  # fmt: skip
                (positives if round(value) != 0 else zeros).append(row)
            else:
                token = YES_NO_TOKENS[0] if value > 0 else YES_NO_TOKENS[1]
                row = {"prompt": prompts[key], "completion": token, "key": key,
                       "source": labelled.source, "group": labelled.group}  # fmt: skip
                (positives if value > 0 else harm_negatives).append(row)
    rng.shuffle(zeros)
    rng.shuffle(harm_negatives)
    harm_positive = sum(1 for r in positives if r["key"] not in VALUE_IDS)
    rows = positives + zeros[: int(len(zeros) * zero_share)]
    rows += harm_negatives[: max(10, int(harm_positive * negatives_per_positive))]
    rng.shuffle(rows)
    return rows


def save_rows(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSON Lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path
