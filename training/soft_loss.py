"""Soft targets in training: cross-entropy to a digit distribution at the answer position.

With ``--anchors soft`` every example carries ``soft_target``, the probabilities of the digits
1..6 it is trained towards (:func:`training.targets.add_soft_targets`). :func:`soft_target_trainer`
subclasses the trainer so that the loss at the digit position is ``-sum_d q_d log p(d)`` (``p``
the model's softmax over the whole vocabulary, ``q`` the soft target): its minimum is ``p(d) =
q_d``, and for a one-hot ``q`` it is exactly the hard recipe's cross-entropy. Every other loss
token (the end of the turn after the digit) keeps the hard cross-entropy, and the total is the
same token mean as :func:`training.sft_loss.answer_loss`. Like the answer-only loss, the model
computes vocabulary logits only at the answer positions. The logged loss is this cross-entropy,
so it includes the entropy of ``q`` (the KL to ``q`` is the loss minus that entropy).

The column travels through TRL's data preparation untouched (it is added to the trainer's
signature columns) and :class:`SoftCollator` stacks it into a ``(batch, 6)`` tensor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from training.sft_loss import answer_positions

#: The example field (and dataset column) holding the soft target.
SOFT_COLUMN = "soft_target"


def dataset_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an example the trainer sees: prompt, completion and any soft target, or the
    token ids and completion mask of a row the caller tokenized (the judge's, training/judge_train)."""
    if "input_ids" in row and "completion_mask" in row:
        return {
            "input_ids": list(row["input_ids"]),
            "completion_mask": list(row["completion_mask"]),
        }
    out = {"prompt": row["prompt"], "completion": row["completion"]}
    if SOFT_COLUMN in row:
        out[SOFT_COLUMN] = [float(x) for x in row[SOFT_COLUMN]]
    return out


def digit_token_ids(tokenizer: Any) -> list[int]:
    """The token ids of the digits 1..6 (each must be a single token).

    Raises:
        ValueError: A digit is not one token.
    """
    out = []
    for d in "123456":
        ids = tokenizer.encode(d, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"expected the digit {d} to be one token, got {ids}")
        out.append(int(ids[0]))
    return out


def soft_target_loss(
    logits: Any,
    labels: Any,
    positions: Any,
    soft: Any,
    digit_ids: list[int],
    num_items: Any = None,
) -> Any:
    """Token-mean loss with a soft target at each example's first loss token (its digit).

    Args:
        logits: ``(batch, len(positions), vocab)`` logits at ``positions``.
        labels: ``(batch, seq)`` labels, ``-100`` where no loss is taken.
        positions: :func:`training.sft_loss.answer_positions` of ``labels``.
        soft: ``(batch, 6)`` target probabilities of the digits 1..6.
        digit_ids: The digits' token ids (:func:`digit_token_ids`).
        num_items: Loss tokens to divide by (the trainer's ``num_items_in_batch``); default:
            this batch's.

    Returns:
        The scalar loss (float32).

    Raises:
        ValueError: An example's first loss token is not a digit 1..6.
    """
    import torch

    picked = labels[:, 1:][:, positions]
    mask = picked != -100
    has = mask.any(dim=1)
    rows = torch.arange(picked.size(0), device=picked.device)
    first = mask.int().argmax(dim=1)
    ids = torch.as_tensor(digit_ids, device=picked.device)
    if not bool(torch.isin(picked[rows, first][has], ids).all()):
        raise ValueError("soft targets: expected each example's first answer token to be a digit")
    logp = torch.log_softmax(logits.float(), dim=-1)
    rest = mask.clone()
    rest[rows, first] = False
    token_logp = logp.gather(-1, picked.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    hard = -(token_logp * rest).sum()
    digit_logp = logp[rows, first][:, ids]
    soft_part = -((soft.float() * digit_logp).sum(-1) * has).sum()
    count = mask.sum() if num_items is None else num_items
    total = hard + soft_part
    return total / torch.as_tensor(count, device=total.device).clamp(min=1)


class SoftCollator:
    """Wraps the trainer's collator: takes ``soft_target`` out of each example and adds it to
    the batch as a float tensor ``(batch, 6)``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        soft = [ex.pop(SOFT_COLUMN) for ex in examples]
        batch = self.inner(examples)
        batch[SOFT_COLUMN] = torch.tensor(soft, dtype=torch.float32)
        return batch


def soft_target_trainer(base: type) -> type:
    """A subclass of the trainer class ``base`` (TRL's ``SFTTrainer`` or a subclass) that trains
    on the examples' soft targets (see the module docstring)."""

    class SoftTargetSFTTrainer(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.data_collator = SoftCollator(self.data_collator)
            self.digit_ids = digit_token_ids(self.processing_class)

        def _set_signature_columns_if_needed(self) -> None:
            super()._set_signature_columns_if_needed()
            if SOFT_COLUMN not in self._signature_columns:
                self._signature_columns = [*self._signature_columns, SOFT_COLUMN]

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs["labels"]
            positions = answer_positions(labels)
            skip = ("labels", SOFT_COLUMN)
            model_inputs = {k: v for k, v in inputs.items() if k not in skip}
            model_inputs["use_cache"] = False
            outputs = model(**model_inputs, logits_to_keep=positions)
            soft = inputs[SOFT_COLUMN].to(outputs.logits.device)
            loss = soft_target_loss(
                outputs.logits, labels, positions, soft, self.digit_ids, num_items_in_batch
            )
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            return (loss, outputs) if return_outputs else loss

    return SoftTargetSFTTrainer
