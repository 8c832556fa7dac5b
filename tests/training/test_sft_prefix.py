"""Shared-prefix batches (``--shared-prefix``): the batch order keeps each batch within one group
(phrasing) and is reproducible per epoch, and running a batch's shared prefix once gives the
one-pass loss and gradients on the real default model."""

from __future__ import annotations

import pytest

from training.sft_loss import (
    answer_loss,
    answer_only_trainer,
    answer_positions,
    prefix_grouped_order,
    prefix_shared_forward,
    shared_prefix_length,
)

torch = pytest.importorskip("torch", reason="needs s2b[train]")

SYSTEM = (
    "<|im_start|>system\nYou are taking part in a survey about personal values. Answer each "
    "question about yourself honestly, with a single digit from 1 to 6.<|im_end|>\n"
    "<|im_start|>user\nHere is a short description of a person:\n\n"
)
STATEMENTS = (
    '"This person wants to be in charge."',
    '"It matters to this person to have authority over other people, in every group."',
    '"They care for the weak."',
    '"Tradition matters to this person."',
)


def test_grouped_order_keeps_batches_within_one_group_and_is_reproducible() -> None:
    groups = ["a"] * 10 + ["b"] * 7 + ["c"] * 3
    order = prefix_grouped_order(groups, 4, seed=0, epoch=0)
    assert sorted(order) == list(range(20))  # every example once
    batches = [order[s : s + 4] for s in range(0, 20, 4)]
    pure = [b for b in batches if len({groups[i] for i in b}) == 1]
    # a: 2 full batches, b: 1 (its 3 left over are pooled with a's 2 and c's 3)
    assert len(pure) >= 3
    assert all(len(b) == 4 for b in batches)
    assert order == prefix_grouped_order(groups, 4, seed=0, epoch=0)
    assert order != prefix_grouped_order(groups, 4, seed=0, epoch=1)
    assert order != prefix_grouped_order(groups, 4, seed=1, epoch=0)


def test_grouped_order_puts_a_short_batch_last() -> None:
    groups = ["a"] * 8 + ["b"] * 3
    for epoch in range(5):
        order = prefix_grouped_order(groups, 4, seed=3, epoch=epoch)
        assert sorted(order) == list(range(11))
        assert {groups[i] for i in order[:4]} == {groups[order[0]]}
        assert sorted(order[-3:]) == [8, 9, 10]  # the pooled remainder: b's 3, a short batch


def test_shared_prefix_length_stops_at_padding_and_at_the_first_kept_position() -> None:
    ids = torch.tensor([[5, 6, 7, 8, 9, 0], [5, 6, 7, 8, 3, 4], [5, 6, 7, 8, 9, 9]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0], [1] * 6, [1] * 6])
    assert shared_prefix_length(ids, mask, torch.tensor([4, 5])) == 4
    assert shared_prefix_length(ids, mask, torch.tensor([2, 5])) == 2
    mask[0, 3] = 0  # a pad inside the common run ends the prefix there
    assert shared_prefix_length(ids, mask, torch.tensor([4])) == 3


def _batch(tokenizer, prompts: list[str], completions: str):
    enc = [
        tokenizer(p + c + "<|im_end|>")["input_ids"]
        for p, c in zip(prompts, completions, strict=True)
    ]
    starts = [len(tokenizer(p)["input_ids"]) for p in prompts]
    width = max(map(len, enc))
    ids = torch.zeros(len(enc), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, (row, start) in enumerate(zip(enc, starts, strict=True)):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, start : len(row)] = torch.tensor(row[start:])
    return ids, mask, labels


@pytest.mark.slow
def test_shared_prefix_forward_equals_one_pass_in_loss_and_gradients(default_model_dir) -> None:
    import peft
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(default_model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        default_model_dir, dtype=torch.float32
    )
    names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = peft.get_peft_model(
        model, peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=names)
    )
    torch.manual_seed(0)
    with torch.no_grad():  # a non-zero adapter, so the prefix's LoRA gets gradients too
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    prompts = [
        SYSTEM + s + "\n\nHow much is this person like you?<|im_end|>\n<|im_start|>assistant\n"
        for s in STATEMENTS
    ]
    ids, mask, labels = _batch(tokenizer, prompts, "1524")
    positions = answer_positions(labels)
    size = shared_prefix_length(ids, mask, positions)
    assert size >= 40  # the system prompt and the question's opening

    def loss_and_grads(forward):
        model.zero_grad()
        outputs = forward()
        loss, _ = answer_loss(outputs.logits, labels, positions)
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
        return float(loss.detach()), grads

    model.train()
    one, grads_one = loss_and_grads(
        lambda: model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=positions)
    )
    shared, grads_shared = loss_and_grads(
        lambda: prefix_shared_forward(model, {"input_ids": ids, "attention_mask": mask}, positions)
    )
    # an independent reference: full logits of each row alone (no padding, no batch)
    with torch.no_grad():
        ref = []
        for i in range(ids.size(0)):
            n = int(mask[i].sum())
            logp = torch.log_softmax(model(input_ids=ids[i : i + 1, :n]).logits[0, :-1], -1)
            target = labels[i, 1:n]
            keep = target != -100
            ref.append(-logp[keep].gather(-1, target[keep][:, None])[:, 0])
        ref_loss = float(torch.cat(ref).mean())
    assert one == pytest.approx(ref_loss, rel=1e-5)
    assert shared == pytest.approx(ref_loss, rel=1e-5)
    assert grads_one.keys() == grads_shared.keys() and grads_one
    prefix_layer = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight"
    assert float(grads_shared[prefix_layer].norm()) > 0
    for name in grads_one:  # equal up to float32 rounding (summation order differs)
        diff = (grads_one[name] - grads_shared[name]).norm() / grads_one[name].norm()
        assert float(diff) < 1e-4, name


@pytest.mark.slow
def test_trainer_with_groups_draws_batches_of_one_group(default_model_dir, tmp_path) -> None:
    import datasets
    import peft
    import transformers
    import trl

    tokenizer = transformers.AutoTokenizer.from_pretrained(default_model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(default_model_dir)
    prompts = [f"<|im_start|>user\n{s}<|im_end|>\n" for s in STATEMENTS * 3]
    groups = ["x", "y", "z"] * 4
    prompts = [
        f"[{g}] {p}" for g, p in zip(groups, prompts, strict=True)
    ]  # the group marks the prompt
    data = datasets.Dataset.from_list([{"prompt": p, "completion": "3"} for p in prompts])
    args = trl.SFTConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=4, use_cpu=True, report_to=[]
    )
    trainer = answer_only_trainer(trl.SFTTrainer, groups)(
        model=model,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
        peft_config=peft.LoraConfig(r=2, target_modules=["q_proj"]),
    )
    loader = trainer.get_train_dataloader()
    for epoch in (0, 1):
        loader.set_epoch(epoch)
        seen = []
        for batch in loader:
            texts = tokenizer.batch_decode(batch["input_ids"][:, :3])
            assert len({t[:3] for t in texts}) == 1, texts  # one group per batch
            seen += texts
        assert len(seen) == 12
