"""``s2b judge train`` end to end on a tiny slice of a real zork1 walkthrough run."""

from __future__ import annotations

import json

import pytest

from agents.judge.labels import run_items
from s2b.cli import main
from s2b_env.values import VALUE_IDS


@pytest.mark.slow
def test_judge_train_end_to_end_on_a_tiny_slice(zork1_walk, tmp_path, console) -> None:
    pytest.importorskip("trl", reason="needs s2b[train]")
    out = tmp_path / "judge"
    args = ["judge", "train", "--out", str(out), "--runs", str(zork1_walk), "--max-examples", "6",
            "--epochs", "1", "--batch-size", "2", "--lora-r", "2", "--lora-alpha", "4",
            "--save-steps", "100", "--max-length", "384", "--progress", "off"]  # fmt: skip
    assert main(args, console) == 0
    summary = json.loads((out / "judge.json").read_text())
    assert summary["examples"] == 6 and summary["prompt_version"] == "judge-v1"
    rows = [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert row["completion"] in [*"1234567", "Yes", "No"]
        assert row["key"] in (*VALUE_IDS, "harm_others", "harm_self")
        assert row["prompt"].endswith(("Rating: ", "Answer: "))
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert "lm_head" not in adapter["target_modules"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    # the trained judge loads and scores through the same CLI path
    from agents.backends.transformers_backend import TransformersBackend
    from agents.judge import ValueJudge

    with TransformersBackend(adapter=out / "adapter") as backend:
        judge = ValueJudge(backend)
        assert judge.name.startswith("smollm2-135m-instruct+adapter@")
        assert 0.0 <= judge.score_question(run_items(zork1_walk)[0].item, "harm_others") <= 1.0
