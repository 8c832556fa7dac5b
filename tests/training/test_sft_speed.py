"""The fast training path on the real default model: the answer-only loss is TRL's loss (same
value and gradients, checked against TRL's own ``compute_loss`` and a hand-computed
cross-entropy over the full logits), and bf16 autocast keeps the LoRA weights in float32 while the
frozen projections are stored in bfloat16."""

from __future__ import annotations

import pytest

from training.sft_loss import (
    answer_loss,
    answer_only_trainer,
    answer_positions,
    frozen_linears_to_bf16,
)

torch = pytest.importorskip("torch", reason="needs s2b[train]")
pytest.importorskip("trl", reason="needs s2b[train]")

pytestmark = pytest.mark.slow

PROMPTS = [
    "<|im_start|>user\nHow much is this person like you? 'They want to be in charge.'"
    "<|im_end|>\n<|im_start|>assistant\nAnswer: ",
    "<|im_start|>user\nRate: 'They care for the weak.'<|im_end|>\n<|im_start|>assistant\nRating: ",
    "<|im_start|>system\nYou answer surveys.<|im_end|>\n<|im_start|>user\nA longer question, "
    "with more words in it, about tradition and customs.<|im_end|>\n<|im_start|>assistant\n"
    "My answer is ",
]


def _trainer(model_dir, tmp_path, cls):
    import datasets
    import peft
    import transformers
    import trl

    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    data = datasets.Dataset.from_list(
        [{"prompt": p, "completion": c} for p, c in zip(PROMPTS, "153", strict=True)]
    )
    args = trl.SFTConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=3,
        use_cpu=True,
        report_to=[],
        completion_only_loss=True,
        seed=0,
    )
    torch.manual_seed(0)
    lora = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    trainer = cls(
        model=model, args=args, train_dataset=data, processing_class=tokenizer, peft_config=lora
    )
    with torch.no_grad():  # a non-zero adapter, so its gradients flow through both paths
        for name, p in trainer.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    batch = next(iter(trainer.get_train_dataloader()))
    return trainer, batch


def _loss_and_grads(trainer, batch):
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    return float(loss.detach()), grads


def test_answer_only_loss_equals_trls_loss_and_gradients(default_model_dir, tmp_path) -> None:
    import trl

    theirs, batch = _trainer(default_model_dir, tmp_path / "a", trl.SFTTrainer)
    ours, _ = _trainer(default_model_dir, tmp_path / "b", answer_only_trainer(trl.SFTTrainer))
    labels = batch["labels"]
    # two loss tokens per example (the digit and <|im_end|>), all at the end of each row
    assert int((labels != -100).sum()) == 6
    positions = answer_positions(labels)
    assert 2 <= positions.numel() <= 6 < labels.shape[1]

    loss_a, grads_a = _loss_and_grads(theirs, batch)
    loss_b, grads_b = _loss_and_grads(ours, batch)
    # an independent reference: the full logits, log-softmax, mean over the six loss tokens
    with torch.no_grad():
        logits = ours.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits
        logp = torch.log_softmax(logits[:, :-1].float(), -1)
        target = labels[:, 1:]
        mask = target != -100
        ref = -logp.gather(-1, target.clamp(min=0)[..., None])[..., 0][mask].mean()
    # TRL's chunked log-softmax and ours round differently in the 7th digit
    assert loss_a == pytest.approx(float(ref), rel=1e-5)
    assert loss_b == pytest.approx(float(ref), rel=1e-5)
    assert grads_a.keys() == grads_b.keys() and grads_a
    for name in grads_a:  # equal up to float32 rounding (summation order differs)
        diff = (grads_a[name] - grads_b[name]).norm() / grads_a[name].norm()
        assert float(diff) < 1e-4, name


def test_answer_loss_without_loss_tokens_is_a_differentiable_zero() -> None:
    labels = torch.full((2, 5), -100)
    positions = answer_positions(labels)
    assert positions.tolist() == [0]
    logits = torch.randn(2, 1, 7, requires_grad=True)
    loss, picked = answer_loss(logits, labels, positions)
    loss.backward()
    assert float(loss) == 0.0 and picked.shape == (2, 1) and logits.grad is not None


def test_bf16_autocast_stores_frozen_projections_in_bf16_and_lora_in_float32(
    default_model_dir,
) -> None:
    import peft
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(
        default_model_dir, dtype=torch.float32
    )
    names = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    # SmolLM2-135M: 30 decoder layers x 7 projections
    assert frozen_linears_to_bf16(model, names) == 30 * 7
    assert model.get_input_embeddings().weight.dtype == torch.float32
    assert model.get_output_embeddings().weight.dtype == torch.float32
    assert model.model.norm.weight.dtype == torch.float32
    wrapped = peft.get_peft_model(model, peft.LoraConfig(r=4, target_modules=list(names)))
    dtypes = {n: p.dtype for n, p in wrapped.named_parameters()}
    assert {d for n, d in dtypes.items() if "lora_" in n} == {torch.float32}
    assert {d for n, d in dtypes.items() if n.endswith("q_proj.base_layer.weight")} == {
        torch.bfloat16
    }
