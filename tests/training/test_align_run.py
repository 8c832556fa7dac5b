"""``s2b align`` end to end on the real default model, CI-sized (the smoke preset: 2 training
items of the target and of one anchor value, one phrasing, 2 epochs; held-out evaluation on 3
values, the target moved down): the whole command, resuming an interrupted run, and the adapter in both backends."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from s2b.cli import main
from tests.conftest import console_text
from training.align_config import load_config
from training.evaluate import VERDICTS, shift_verdict
from training.sft_data import check_split, load_examples
from training.survey_io import load_survey

pytest.importorskip("trl", reason="needs s2b[train]")

pytestmark = pytest.mark.slow

TARGET = "hedonism"
EVAL = ("stimulation", "hedonism", "humility")  # taxonomy order, as profiles list them
#: The run's settings come from a YAML file given with --config (preset, target) and from options
#: given beside it, which win over the file (its seed 7 becomes 3).
CONFIG_YAML = f"""\
preset: smoke
targets:
  values: [{TARGET}]
  direction: down
  delta: 2
train:
  seed: 7
"""
ARGS = ["align", "--eval-values", *EVAL, "--seed", "3"]
DIGITS = list("123456")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, default_model_dir) -> tuple[Path, str]:
    from io import StringIO

    from rich.console import Console

    console = Console(file=StringIO(), width=100, color_system=None)
    folder = tmp_path_factory.mktemp("align")
    (folder / "settings.yaml").write_text(CONFIG_YAML)
    run_dir = folder / "run"
    argv = [*ARGS, "--config", str(folder / "settings.yaml"), "--run-dir", str(run_dir)]
    code = main([*argv, "--progress", "plain"], console=console)
    text = console_text(console)
    assert code == 0, text
    return run_dir, text


def test_align_command_end_to_end(smoke_run) -> None:
    run_dir, text = smoke_run
    for name in (
        "config.yaml", "versions.json", "plan.json", "targets.json", "data/train.jsonl",
        "adapter/adapter_model.safetensors", "adapter/adapter_config.json",
        "logs/train_log.jsonl", "logs/train.log", "train_summary.json", "results.json",
        "summary.md", "shift.png",
    ):  # fmt: skip
        assert (run_dir / name).is_file(), name
    assert (run_dir / "shift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    versions = json.loads((run_dir / "versions.json").read_text())
    assert {"s2b", "torch", "transformers", "peft", "trl", "datasets"} <= set(versions)

    config = load_config(run_dir / "config.yaml")
    assert config.preset == "smoke" and config.targets.values == (TARGET,)
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["seed"] == 3

    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["moved"] == [TARGET] and len(plan["anchors"]) == 1
    assert TARGET not in plan["anchors"] and plan["evaluated"] == list(EVAL)

    # data: training items only, one phrasing, targets = own answer (+2 for the target)
    survey = load_survey()
    rows = load_examples(run_dir / "data" / "train.jsonl")
    assert check_split(rows, survey) == len(rows) == 4
    targets = {t["item_id"]: t for t in json.loads((run_dir / "targets.json").read_text())}
    baseline = json.loads((run_dir / "profiles/baseline-train/profile.json").read_text())
    scores = {i["id"]: i["score"] for i in baseline["items"]}
    for row in rows:
        t = targets[row["item_id"]]
        own = min(6, max(1, math.floor(scores[row["item_id"]] + 0.5)))
        expected = max(1, own - 2) if row["value"] == TARGET else own
        assert t["target"] == expected == int(row["completion"])
        assert row["phrasing"] == "portrait"

    # training: 4 examples / batch 4 x 2 epochs = 2 steps; loss on the digit and end of turn only
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["examples"] == 4
    assert summary["loss_tokens"] == 2.0
    assert summary["examples_per_second"] > 0 and summary["peak_rss_gib"] > 0.3
    log = [json.loads(line) for line in (run_dir / "logs/train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "loss" in e] == [1, 2]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir() if p.is_dir()) == [
        "checkpoint-1",
        "checkpoint-2",
    ]

    # evaluation: every evaluated value, paired shifts consistent with the profiles
    results = json.loads((run_dir / "results.json").read_text())
    assert [r["value"] for r in results["values"]] == list(EVAL)
    roles = {r["value"]: r["role"] for r in results["values"]}
    assert roles[TARGET] == "target" and set(roles.values()) <= {"target", "anchor", "other"}
    base = json.loads((run_dir / "profiles/baseline-heldout/profile.json").read_text())
    aligned = json.loads((run_dir / "profiles/aligned-heldout/profile.json").read_text())
    b = {i["id"]: i["score"] for i in base["items"]}
    a = {i["id"]: i["score"] for i in aligned["items"]}
    assert set(a) == set(b) and len(a) == 18
    assert all(survey.item(i).split == "heldout" for i in a)
    target_ids = [i for i in a if survey.item(i).value == TARGET]
    shift = sum(a[i] - b[i] for i in target_ids) / len(target_ids)
    assert math.isclose(results["target"]["mean"], shift, abs_tol=1e-9)
    assert results["target"]["ci_low"] <= shift <= results["target"]["ci_high"]
    # Asked to move the target down, the run moves it down: on this slice (seed 3, smoke preset)
    # the held-out shift is about -0.9 with an interval well below 0, and the verdict follows.
    assert results["target"]["ci_high"] < 0 and shift < -0.2
    others = [r for r in results["values"] if r["role"] != "target"]
    assert math.isclose(
        results["collateral"]["mean_abs"],
        sum(abs(r["shift"]) for r in others) / len(others),
        abs_tol=1e-9,
    )
    check = results["average_check"]
    assert results["direction"] == "down" and results["directions"] == {TARGET: "down"}
    asked = [
        t["target"] - min(6, max(1, math.floor(t["baseline"] + 0.5)))
        for t in targets.values()
        if t["moved"]
    ]
    assert math.isclose(results["intended_shift"], sum(asked) / len(asked), abs_tol=1e-9)
    assert check["anchor_train_shift"]["n"] == 2
    # the stored verdict follows from the stored numbers, and matches the target's interval
    assert check["verdict"] == shift_verdict(
        results["intended_shift"], results["target"], check["difference"], has_anchors=True
    )
    assert check["explanation"] == VERDICTS[check["verdict"]]
    moved = results["target"]["ci_low"] > 0 or results["target"]["ci_high"] < 0
    assert (check["verdict"] == "no-shift") == (not moved)
    assert moved and check["verdict"] in ("average-only", "item-specific", "mostly-average")
    if moved:
        toward = results["target"]["mean"] < 0
        assert (check["verdict"] == "wrong-way") == (
            not toward and check["difference"]["ci_high"] < 0
        )
    assert math.isclose(
        check["difference"]["mean"],
        shift - check["anchor_train_shift"]["mean"],
        abs_tol=1e-9,
    )

    # what the command printed and the summary
    assert "held-out shift per value" in text and f"target {TARGET} (down)" in text
    assert "verdict:" in text and "step 2/2" in text and "baseline-heldout: 18/18" in text
    summary_md = (run_dir / "summary.md").read_text()
    assert "| hedonism | target |" in summary_md and "average-answer check" in summary_md


def test_interrupted_run_resumes_to_the_same_result(smoke_run, tmp_path, console) -> None:
    """Interrupt after the first checkpoint, continue with --resume: same losses and shifts."""
    import transformers

    from training.align import run_align

    class Interrupt(transformers.TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise KeyboardInterrupt  # as Ctrl-C right after checkpoint-1 is written

    full_dir, _ = smoke_run
    config = load_config(full_dir / "config.yaml")
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_align(config, run_dir, progress="off", callbacks=[Interrupt()])
    assert (run_dir / "checkpoints" / "checkpoint-1").is_dir()
    assert not (run_dir / "checkpoints" / "checkpoint-2").exists()
    assert not (run_dir / "results.json").exists()

    code = main(["align", "--resume", str(run_dir), "--progress", "plain"], console=console)
    text = console_text(console)
    assert code == 0, text
    assert "resuming at step 1" in text
    resumed = json.loads((run_dir / "train_summary.json").read_text())
    assert resumed["resumed_from"].endswith("checkpoint-1") and resumed["steps"] == 2

    def losses(d: Path) -> dict[int, float]:
        lines = (d / "logs/train_log.jsonl").read_text().splitlines()
        return {e["step"]: e["loss"] for e in map(json.loads, lines) if "loss" in e}

    full_losses, resumed_losses = losses(full_dir), losses(run_dir)
    assert full_losses[2] == pytest.approx(resumed_losses[2], abs=1e-4)
    full = json.loads((full_dir / "results.json").read_text())
    again = json.loads((run_dir / "results.json").read_text())
    for f, r in zip(full["values"], again["values"], strict=True):
        assert f["value"] == r["value"]
        assert f["aligned"] == pytest.approx(r["aligned"], abs=1e-3)
        assert f["shift"] == pytest.approx(r["shift"], abs=1e-3)
    assert full["target"]["mean"] == pytest.approx(again["target"]["mean"], abs=1e-3)

    # --resume takes the run's own settings only
    code = main(["align", "--resume", str(run_dir), "--epochs", "3"], console=console)
    assert code == 2 and "expected no other settings" in console_text(console)


def test_new_run_refuses_a_used_folder(smoke_run, console) -> None:
    run_dir, _ = smoke_run
    flags = ["--preset", "smoke", "--value", TARGET, "--direction", "down"]
    code = main([*ARGS, *flags, "--run-dir", str(run_dir), "--progress", "off"], console=console)
    assert code == 2 and "not empty" in console_text(console)


@pytest.mark.vllm
def test_adapter_gives_the_same_digits_in_both_backends(smoke_run, default_model_dir, tmp_path):
    """The trained adapter (all seven projections) served by vLLM and loaded in-process."""
    from agents.backends.openai_backend import OpenAIBackend
    from agents.backends.transformers_backend import TransformersBackend
    from agents.backends.vllm_server import VLLMServer, vllm_python

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    run_dir, _ = smoke_run
    adapter = run_dir / "adapter"
    survey = load_survey()
    items = [survey.select("heldout", [v])[0] for v in EVAL]
    local = TransformersBackend(default_model_dir, adapter=adapter)
    base = TransformersBackend(default_model_dir)
    prompts = [
        local.chat_prompt(p.messages(i), assistant_prefix=p.assistant_prefix)
        for i in items
        for p in survey.phrasings
    ]
    server = VLLMServer(
        default_model_dir, adapters={"aligned": adapter}, log_path=tmp_path / "vllm.log"
    )
    with server.start(wait=300):
        http = OpenAIBackend(server.base_url, adapter="aligned", timeout=60)
        remote = http.next_token_distributions(prompts, DIGITS)
        http.close()
    moved = 0.0
    for prompt, r in zip(prompts, remote, strict=True):
        lo = local.next_token_distribution(prompt, DIGITS)
        assert max(abs(x - y) for x, y in zip(r.probs, lo.probs, strict=True)) < 2e-3
        assert abs(r.mass - lo.mass) < 2e-3
        b = base.next_token_distribution(prompt, DIGITS)
        moved = max(moved, max(abs(x - y) for x, y in zip(b.probs, lo.probs, strict=True)))
    assert moved > 0.01  # the adapter is really applied, so the agreement means something
    local.close()
    base.close()
