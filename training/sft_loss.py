"""The training loss at the answer positions only.

A survey example is a ~100-150-token prompt and a two-token completion (the digit and the end of
the turn), and only those two tokens carry loss. TRL's ``SFTTrainer`` on a CPU projects the hidden
state of *every* position through the 49k-token vocabulary head and computes the entropy and
top-1 of each (its compact kernel needs Triton), then masks all but two positions per example.
:func:`answer_only_trainer` subclasses the trainer so that the model is asked for logits only at
the positions whose next token carries loss (transformers' ``logits_to_keep`` with a tensor of
positions: the union over the batch, so a few per batch instead of the whole sequence). The loss
is the same token-mean cross-entropy over the same tokens (``num_items_in_batch`` is honoured as
TRL does), so the gradients are equal up to float rounding; ``tests/training`` checks the two
losses agree.

Example:
    >>> Trainer = answer_only_trainer(trl.SFTTrainer)          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any


def answer_positions(labels: Any) -> Any:
    """The sequence positions whose *next* token carries loss, over the whole batch.

    Args:
        labels: ``(batch, seq)`` label ids with ``-100`` where no loss is taken.

    Returns:
        A sorted 1-D long tensor of positions ``t`` (logits at ``t`` predict ``labels[:, t + 1]``);
        position 0 when no token carries loss (the loss is then an exact, differentiable zero).
    """
    import torch

    keep = (labels[:, 1:] != -100).any(dim=0).nonzero().flatten()
    return keep if keep.numel() else torch.zeros(1, dtype=torch.long, device=labels.device)


def answer_loss(logits: Any, labels: Any, positions: Any, num_items: Any = None) -> Any:
    """Token-mean cross-entropy of the kept logits against the next-token labels.

    Args:
        logits: ``(batch, len(positions), vocab)`` logits at ``positions``.
        labels: ``(batch, seq)`` labels, ``-100`` where no loss is taken.
        positions: :func:`answer_positions` of ``labels``.
        num_items: The number of loss tokens to divide by (the trainer's ``num_items_in_batch``,
            across gradient-accumulation steps); default: this batch's.

    Returns:
        ``(loss, picked)``: the scalar loss (computed in float32) and the labels at the kept
        positions, ``(batch, len(positions))``.
    """
    import torch

    picked = labels[:, 1:][:, positions]
    total = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)),
        picked.reshape(-1),
        ignore_index=-100,
        reduction="sum",
    )
    count = (picked != -100).sum() if num_items is None else num_items
    return total / torch.as_tensor(count, device=total.device).clamp(min=1), picked


def answer_only_trainer(base: type) -> type:
    """A subclass of TRL's ``SFTTrainer`` class ``base`` whose training loss keeps only the
    logits at the answer positions (see the module docstring); it logs the token accuracy and
    entropy of those positions like TRL does."""

    class AnswerOnlySFTTrainer(base):  # type: ignore[misc, valid-type]
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            labels = inputs["labels"]
            positions = answer_positions(labels)
            model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
            model_inputs["use_cache"] = False
            outputs = model(**model_inputs, logits_to_keep=positions)
            loss, picked = answer_loss(outputs.logits, labels, positions, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            mode = "train" if self.model.training else "eval"
            with torch.no_grad():
                mask = picked != -100
                valid = int(mask.sum())
                logp = torch.log_softmax(outputs.logits.float(), dim=-1)
                entropy = -(logp.exp() * logp).sum(-1)
                correct = (outputs.logits.argmax(-1) == picked) & mask
                if valid:
                    self._metrics[mode]["entropy"].append(float(entropy[mask].mean()))
                    self._metrics[mode]["mean_token_accuracy"].append(int(correct.sum()) / valid)
            return (loss, outputs) if return_outputs else loss

    return AnswerOnlySFTTrainer


def frozen_linears_to_bf16(model: Any, names: tuple[str, ...]) -> int:
    """Store the weights of the frozen ``nn.Linear`` layers that LoRA wraps in bfloat16.

    Under bfloat16 autocast every matmul casts its float32 weight to bfloat16 on every call (the
    same rounding as storing it so): storing the frozen base weights in bfloat16 once gives the
    same products without the per-step copies, and halves their memory. Embeddings, norms and the
    (tied) output head stay float32, so the residual stream stays float32; peft keeps the LoRA
    weights themselves in float32 (``autocast_adapter_dtype``).

    Args:
        model: The base model, before peft wraps it.
        names: Module names LoRA targets (e.g. ``q_proj``).

    Returns:
        How many layers were cast.
    """
    import torch

    count = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in names:
            module.to(torch.bfloat16)
            count += 1
    return count
