"""``s2b run`` and ``s2b profile`` with ``--backend openai`` end to end against the real vLLM CPU
server of the test session, compared with the same commands on the in-process backend (the
independent reference: transformers on the same weights)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2b.cli import main

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

TOL = 2e-3  # vLLM's CPU kernels vs transformers in float32 (see tests/agents/test_vllm_server.py)


def _steps(out: Path) -> list[dict]:
    lines = [json.loads(x) for x in (out / "trajectory.jsonl").read_text().splitlines() if x]
    return [r for r in lines if r.get("type") == "step"]


def _run(console, out: Path, *model_args: str) -> list[dict]:
    argv = ["run", "--env", "dilemma", "--agent", "llm", "--episodes", "2", "--seed", "3"]
    code = main([*argv, "--out", str(out), "--progress", "off", *model_args], console=console)
    assert code == 0, console.file.getvalue()
    return _steps(out)


def test_run_through_the_server_acts_as_in_process(console, vllm_server, tmp_path) -> None:
    http = _run(
        console,
        tmp_path / "http",
        "--backend",
        "openai",
        "--base-url",
        vllm_server.base_url,
        "--adapter",
        "rand",
    )
    local = _run(console, tmp_path / "local", "--adapter", str(vllm_server.adapters["rand"]))
    assert len(http) == len(local) >= 2
    assert [s["action"] for s in http] == [s["action"] for s in local]
    assert [s["reward"] for s in http] == [s["reward"] for s in local]


def _profile(console, out: Path, *model_args: str) -> dict:
    argv = [
        "profile",
        "--items",
        "heldout",
        "--values",
        "power_dominance",
        "achievement",
        "--phrasings",
        "portrait",
        "--bootstrap",
        "100",
        "--out",
        str(out),
    ]
    assert main([*argv, *model_args], console=console) == 0, console.file.getvalue()
    return json.loads((out / "profile.json").read_text())


def test_profile_through_the_server_matches_in_process(console, vllm_server, tmp_path) -> None:
    http = _profile(
        console, tmp_path / "http", "--backend", "openai", "--base-url", vllm_server.base_url
    )
    local = _profile(console, tmp_path / "local")
    assert sorted(r["value"] for r in http["values"]) == ["achievement", "power_dominance"]
    by_value = {r["value"]: r for r in local["values"]}
    for row in http["values"]:
        assert row["mean"] == pytest.approx(by_value[row["value"]]["mean"], abs=5 * TOL)
    assert http["summary"]["n_results"] == local["summary"]["n_results"] > 0
