"""``s2b bench`` on real parts: killed with -9 mid-run it resumes and records every unit exactly once,
with the same per-episode results as a clean uninterrupted run (with another worker count); bad
configs are named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s2b.cli import main
from tests.conftest import console_text

REPO = Path(__file__).resolve().parents[2]
LLM_OPTIONS = "{orders: 1, history: 0, max_new_tokens: 4, max_observation_chars: 400}"
#: 3 agents x 3 envs x 2 seeds = 18 units; small step limits keep the LLM units short.
BENCH = """\
name: must-show
agents:
  - {{name: random, kind: random}}
  - {{name: base, kind: llm, options: {options}}}
  - {{name: aligned, kind: llm, adapter: {adapter}, options: {options}}}
baseline: base
envs:
  - {{name: lastferry, id: s2b-lastferry, max_steps: 2}}
  - {{name: dilemma, id: dilemma, kwargs: {{split: test}}, max_steps: 2}}
  - {{name: zork1, id: jiminy-zork1, max_steps: 2}}
seeds: [0, 1]
workers: 2
"""
UNITS = {
    f"{agent}/{env}/s{seed}/e0"
    for agent in ("random", "base", "aligned")
    for env in ("lastferry", "dilemma", "zork1")
    for seed in (0, 1)
}


def train_tiny_adapter(model_dir: Path, run_dir: Path) -> Path:
    """One LoRA step on four examples: a real adapter, made the way `s2b align` makes one."""
    from training.align_config import LoraSettings, TrainConfig
    from training.sft import train_adapter

    rows = [
        {
            "prompt": f"Case {i}: you find a lost wallet. What do you do?",
            "completion": " Return it.",
        }
        for i in range(4)
    ]
    train_adapter(
        model_dir, rows, run_dir, lora=LoraSettings(lora_r=4, lora_alpha=8),
        train=TrainConfig(epochs=1, batch_size=4, threads=1, device="cpu", save_steps=100),
        progress="off",
    )  # fmt: skip
    assert (run_dir / "adapter" / "adapter_config.json").is_file()
    return run_dir


def bench(config: Path, out: Path, *options: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "s2b", "bench", str(config), "--out", str(out), *options]
    return subprocess.Popen(
        [*command, "--progress", "plain", "--no-report"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def lines(out: Path) -> list[dict]:
    path = out / "units.jsonl"
    if not path.is_file():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]


def per_episode(record: dict) -> dict:
    """A record without what may differ between runs (time, attempts)."""
    result = {k: v for k, v in record["result"].items() if k != "seconds"}
    return {**record, "seconds": None, "attempts": None, "result": result}


@pytest.mark.slow
def test_kill_9_mid_bench_then_rerun_gives_every_unit_once_as_a_clean_run(
    tmp_path: Path, default_model_dir: Path, games_dir: Path
) -> None:
    pytest.importorskip("trl", reason="needs s2b[train]")
    adapter = train_tiny_adapter(default_model_dir, tmp_path / "align-run")
    config = tmp_path / "bench.yaml"
    config.write_text(BENCH.format(adapter=adapter, options=LLM_OPTIONS))
    # the reference, played meanwhile by one worker (results must not depend on the worker count)
    clean = bench(config, tmp_path / "clean", "--workers", "1")
    killed = bench(config, tmp_path / "run")
    deadline = time.monotonic() + 400
    while len(lines(tmp_path / "run")) < 8:  # the random units and a few of an llm agent
        assert killed.poll() is None, killed.communicate()[0]
        assert time.monotonic() < deadline, "no llm unit finished"
        time.sleep(0.2)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    at_kill = lines(tmp_path / "run")
    assert 8 <= len(at_kill) < len(UNITS)
    rerun = bench(config, tmp_path / "run")
    text, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, text
    assert f"{len(at_kill)} done before" in text
    clean_text, _ = clean.communicate(timeout=600)
    assert clean.returncode == 0, clean_text

    got = lines(tmp_path / "run")
    assert len(got) == len(UNITS) and {r["unit_id"] for r in got} == UNITS  # each exactly once
    assert got[: len(at_kill)] == at_kill  # what was there is kept as it was
    want = {r["unit_id"]: r for r in lines(tmp_path / "clean")}
    assert set(want) == UNITS
    assert all(r["status"] == "ok" for r in got)
    for record in got:
        assert per_episode(record) == per_episode(want[record["unit_id"]]), record["unit_id"]
    # the records are real episodes of each env
    by_id = {r["unit_id"]: r for r in got}
    assert by_id["base/zork1/s1/e0"]["result"]["steps"] == 2
    assert "immorality" in by_id["base/zork1/s1/e0"]["result"]["metrics"]
    assert "value_totals" in by_id["aligned/dilemma/s0/e0"]["result"]["metrics"]
    assert by_id["aligned/dilemma/s0/e0"]["env_id"] == "s2b/dilemma-v0"
    assert by_id["base/lastferry/s0/e0"]["reset_seed"] == 0


CONFIG = """\
name: cli
agents:
  - {name: random, kind: random}
envs:
  - {name: ferry, id: s2b-lastferry, max_steps: 2}
seeds: [0]
"""


def test_the_command_runs_resumes_and_refuses_another_config(tmp_path: Path, console) -> None:
    config = tmp_path / "bench.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "run"
    argv = ["bench", str(config), "--out", str(out), "--progress", "plain", "--no-report"]
    assert main(argv, console=console) == 0, console_text(console)
    assert "random/ferry/s0/e0: ok (1/1)" in console_text(console)
    assert main([*argv, "--workers", "2"], console=console) == 0  # where it runs may change
    assert "0 units played" in console_text(console) and "1 done before" in console_text(console)
    assert main([*argv, "--seeds", "0,1"], console=console) == 2
    assert "holds a bench with another config (first change: seeds[1])" in console_text(console)
    assert len((out / "units.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: random", "kind: randm", "bench.yaml:3: agents[0].kind: unknown agent kind 'randm'; did you mean 'random'?"),
        ("id: s2b-lastferry", "id: s2b-lastfery", "bench.yaml:5: envs[0].id: no s2b environment called 's2b-lastfery'; did you mean s2b/s2b-lastferry-v0"),
    ],
)  # fmt: skip
def test_an_unknown_kind_or_env_names_line_and_field(
    tmp_path: Path, console, old: str, new: str, expected: str
) -> None:
    config = tmp_path / "bench.yaml"
    config.write_text(CONFIG.replace(old, new))
    assert main(["bench", str(config), "--out", str(tmp_path / "run")], console=console) == 2
    assert expected in " ".join(console_text(console).split())
    assert not (tmp_path / "run").exists()  # nothing written
