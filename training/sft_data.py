"""Fine-tuning data: chat-formatted prompt/completion examples from the survey's training items.

One example per (training item, phrasing). The **prompt** is the survey question rendered with
the model's chat template, ending with an open assistant turn and the phrasing's assistant prefix
(exactly the text :mod:`training.profile` scores, e.g. ``...<|im_start|>assistant\\nAnswer: ``);
the **completion** is the single target digit. This is TRL's standard (non-conversational)
prompt/completion format: ``SFTTrainer`` then computes the loss on the completion tokens only
(``completion_only_loss`` defaults to on for prompt/completion data) and appends the tokenizer's
end-of-sequence token to the completion, so the model learns "digit, then end of turn".

Held-out items never enter: :func:`build_examples` refuses them and :func:`check_split` checks
a finished data set (no held-out id, and no held-out statement's text in any prompt).

Example:
    >>> rows = build_examples(survey, targets, render)          # doctest: +SKIP
    >>> rows[0]["completion"]                                    # doctest: +SKIP
    '4'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError
from training.survey import Survey, normalize_text
from training.targets import ItemTarget

#: Renders chat messages plus an assistant prefix into prompt text.
Renderer = Callable[[list[dict[str, str]], str], str]
#: The fields of one saved example, in file order.
EXAMPLE_FIELDS: tuple[str, ...] = (
    "item_id",
    "value",
    "split",
    "phrasing",
    "baseline",
    "target",
    "moved",
    "messages",
    "assistant_prefix",
    "prompt",
    "completion",
)


def training_items(
    survey: Survey, values: Sequence[str], per_value: int | None = None
) -> list[Any]:
    """The training items of ``values``: the first ``per_value`` of each (file order), or all.

    Args:
        survey: The survey.
        values: Value ids, in the order their items should appear.
        per_value: Items per value; ``None`` takes every training item.

    Raises:
        ValueError: ``per_value`` is not a positive integer, or a value has fewer training items.
    """
    if per_value is not None and (
        isinstance(per_value, bool) or not isinstance(per_value, int) or per_value < 1
    ):
        raise ValueError(f"per_value: expected a positive integer or None, got {per_value!r}")
    out = []
    for value in values:
        items = list(survey.select("train", [value]))
        if per_value is not None:
            if len(items) < per_value:
                raise ValueError(
                    f"expected {per_value} training items of {value}, the survey has {len(items)}"
                )
            items = items[:per_value]
        out.extend(items)
    return out


def build_examples(
    survey: Survey,
    targets: Iterable[ItemTarget],
    render: Renderer,
    phrasings: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One prompt/completion example per (target item, phrasing).

    Args:
        survey: The survey the items come from.
        targets: The items' targets (:func:`training.targets.build_targets`); training items only.
        render: Turns messages plus the assistant prefix into the prompt text; ``s2b align``
            passes the profiling backend's ``chat_prompt``, so training and profiles see the
            same text.
        phrasings: Phrasing ids to use; empty: all of the survey's.

    Returns:
        Records with :data:`EXAMPLE_FIELDS`, ordered by phrasing, then item; with soft
        targets (``--anchors soft``) also ``soft_target``, the six digit probabilities trained on
        (the completion is then the hard target digit, whose end-of-turn token still carries loss).

    Raises:
        ValueError: A target names a held-out item, or there are no targets.
        KeyError: An unknown item or phrasing id.
    """
    chosen = [survey.phrasing(p) for p in phrasings] if phrasings else list(survey.phrasings)
    targets = list(targets)
    if not targets:
        raise ValueError("expected at least one item target, got none")
    rows = []
    for phrasing in chosen:
        for t in targets:
            item = survey.item(t.item_id)
            if item.split != "train":
                raise ValueError(
                    f"item {item.id!r} is a {item.split} item: expected training items only "
                    "(held-out items are never trained on)"
                )
            messages = phrasing.messages(item)
            rows.append(
                {
                    "item_id": item.id,
                    "value": item.value,
                    "split": item.split,
                    "phrasing": phrasing.id,
                    "baseline": round(t.baseline, 6),
                    "target": t.target,
                    "moved": t.moved,
                    "messages": messages,
                    "assistant_prefix": phrasing.assistant_prefix,
                    "prompt": render(messages, phrasing.assistant_prefix),
                    "completion": str(t.target),
                    **({"soft_target": t.soft[phrasing.id]} if t.soft else {}),
                }
            )
    return rows


def check_split(rows: Iterable[dict[str, Any]], survey: Survey) -> int:
    """Check that no held-out item or held-out statement reaches the training data.

    Every record's ``item_id`` must be a training item, and no held-out statement's normalised
    text (:func:`training.survey.normalize_text`) may occur in any prompt or completion.

    Args:
        rows: Examples as built by :func:`build_examples` (or read by :func:`load_examples`).
        survey: The survey whose split applies.

    Returns:
        The number of examples checked.

    Raises:
        ValueError: A held-out item or text was found; the message names it.
    """
    heldout = survey.select("heldout")
    heldout_ids = {i.id for i in heldout}
    heldout_texts = [(i.id, normalize_text(i.text)) for i in heldout]
    n = 0
    for n, row in enumerate(rows, start=1):
        if row.get("item_id") in heldout_ids:
            raise ValueError(f"example {n}: held-out item {row['item_id']!r} in the training data")
        text = normalize_text(str(row.get("prompt", "")) + " " + str(row.get("completion", "")))
        for item_id, key in heldout_texts:
            if key in text:
                raise ValueError(
                    f"example {n} ({row.get('item_id')}): the text of held-out item {item_id!r} "
                    "is in its prompt"
                )
    return n


def save_examples(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write examples as JSON Lines (one record per line, :data:`EXAMPLE_FIELDS`, and
    ``soft_target`` when a row has one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            keys = (*EXAMPLE_FIELDS, *(["soft_target"] if "soft_target" in row else []))
            fh.write(json.dumps({k: row[k] for k in keys}, ensure_ascii=False) + "\n")
    return path


def load_examples(path: str | Path) -> list[dict[str, Any]]:
    """Read examples written by :func:`save_examples`.

    Raises:
        DataError: The file is missing, or a line is not JSON or lacks a field.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"invalid JSON: {exc.msg}", line=number) from None
        if not isinstance(row, dict):
            raise DataError(path, "expected a JSON object", line=number)
        for key in ("item_id", "prompt", "completion"):
            if not isinstance(row.get(key), str):
                raise DataError(path, "missing or not a string", line=number, field=key)
        rows.append(row)
    if not rows:
        raise DataError(path, "no examples")
    return rows
