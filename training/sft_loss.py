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


def shared_prefix_length(input_ids: Any, attention_mask: Any, positions: Any) -> int:
    """The number of leading tokens that every row of the batch shares (real tokens, not
    padding), capped at the first kept position (its hidden state must be computed per row)."""
    same = (input_ids == input_ids[:1]).all(dim=0) & attention_mask.bool().all(dim=0)
    return min(int(same.int().cumprod(dim=0).sum()), int(positions.min()))


def prefix_shared_forward(
    model: Any, inputs: dict[str, Any], positions: Any, least: int = 8
) -> Any:
    """The model's logits at ``positions``, with the batch's shared prefix run once.

    The rows of a survey batch of one phrasing share a long start (the system prompt and the
    question's opening). The prefix is run once, for one row, with the KV cache on; the cache is
    repeated to the batch and the rest of every row runs on it. Under a causal mask this is the
    same computation (the prefix's states do not depend on what follows), and the gradient of the
    repeated cache sums the rows' gradients into the one prefix pass, LoRA weights included: the
    same loss and gradients up to float rounding (with LoRA dropout, the prefix shares one mask).

    Args:
        model: The (peft-wrapped) causal LM.
        inputs: ``input_ids`` and ``attention_mask`` (right-padded), ``(batch, seq)``.
        positions: The positions whose logits are wanted (:func:`answer_positions`).
        least: Below this many shared tokens (or for one row) the batch runs in one pass.

    Returns:
        The model output; ``logits`` is ``(batch, len(positions), vocab)``.
    """
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    size = shared_prefix_length(ids, mask, positions) if ids.size(0) > 1 else 0
    if size < least:
        return model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=positions)
    head = model(input_ids=ids[:1, :size], use_cache=True, logits_to_keep=1)
    # transformers 5.x renamed past_key_values to cache (outputs and keyword)
    key = "cache" if getattr(head, "cache", None) is not None else "past_key_values"
    cache = getattr(head, key)
    cache.batch_repeat_interleave(ids.size(0))
    return model(
        input_ids=ids[:, size:],
        attention_mask=mask,
        use_cache=True,
        logits_to_keep=positions - size,
        **{key: cache},
    )


def prefix_grouped_order(groups: list[str], batch: int, seed: int, epoch: int) -> list[int]:
    """An epoch's example order whose consecutive ``batch``-sized slices each come from one group
    (one phrasing: one shared prefix) where the group has enough examples left.

    Each group is shuffled and cut into full batches; the remainders are pooled, shuffled and cut
    the same way (mixed batches). The full batches are shuffled together; a short last batch, if
    any, stays last so every other slice is full. Deterministic in ``(seed, epoch)``, so a
    resumed run sees the same order.
    """
    import random

    rng = random.Random(seed * 1_000_003 + epoch)
    chunks: list[list[int]] = []
    rest: list[int] = []
    for key in sorted(set(groups)):
        members = [i for i, k in enumerate(groups) if k == key]
        rng.shuffle(members)
        cut = len(members) - len(members) % batch
        chunks += [members[s : s + batch] for s in range(0, cut, batch)]
        rest += members[cut:]
    rng.shuffle(rest)
    tail = [rest[s : s + batch] for s in range(0, len(rest), batch)]
    short = tail.pop() if tail and len(tail[-1]) < batch else []
    chunks += tail
    rng.shuffle(chunks)
    return [i for c in chunks for i in c] + short


def answer_only_trainer(base: type, groups: list[str] | None = None) -> type:
    """A subclass of TRL's ``SFTTrainer`` class ``base`` whose training loss keeps only the
    logits at the answer positions (see the module docstring); it logs the token accuracy and
    entropy of those positions like TRL does.

    With ``groups`` (a prefix key per training example, e.g. its phrasing), the batches are
    drawn one group at a time (:func:`prefix_grouped_order`) and each batch's shared prefix runs
    once (:func:`prefix_shared_forward`)."""

    class AnswerOnlySFTTrainer(base):  # type: ignore[misc, valid-type]
        def _get_train_sampler(self, train_dataset=None):
            if groups is None:
                return super()._get_train_sampler(train_dataset)
            return _GroupedSampler(groups, self.args.train_batch_size, self.args.seed)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            labels = inputs["labels"]
            positions = answer_positions(labels)
            if groups is not None and "attention_mask" in inputs:
                outputs = prefix_shared_forward(model, inputs, positions)
            else:
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


class _GroupedSampler:
    """A torch sampler over :func:`prefix_grouped_order` (the trainer calls ``set_epoch``)."""

    def __init__(self, groups: list[str], batch: int, seed: int) -> None:
        self.groups, self.batch, self.seed, self.epoch = list(groups), batch, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.groups)

    def __iter__(self):
        return iter(prefix_grouped_order(self.groups, self.batch, self.seed, self.epoch))


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
