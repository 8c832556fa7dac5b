"""Every script in ``benchmarks/`` runs end to end with tiny settings, so none of them rots.

The numbers are not checked here (they are recorded in docs/benchmarks.md with their commands);
a script that crashes, or that has no smoke entry below, fails.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import GAMES_DIR, REPO

#: Script -> the tiniest arguments that still run every part of it.
SMOKE: dict[str, list[str]] = {
    "p1_env_step.py": ["--game", "detective", "--repeats", "1"],
    "p2_jiminy_score.py": ["--repeats", "1"],
    "p3_valid_actions.py": ["--game", "detective", "--states", "2", "--workers", "1"],
    "p4_candidate_scoring.py": ["--prompts", "1", "--repeats", "1"],
    # compiled: the suite's one vLLM server started as vLLM starts it by default (conftest.py
    # makes the others eager)
    "p5_server.py": [
        "--episodes",
        "1",
        "--max-steps",
        "1",
        "--repeats",
        "1",
        "--clients",
        "1",
        "--servers",
        "compiled",
    ],
    "p6_vector_env.py": [
        "--workload",
        "plain",
        "--episodes",
        "2",
        "--steps",
        "2",
        "--repeats",
        "1",
    ],
    "p8_judge.py": ["--actions", "1", "--repeats", "1"],
    "p9_rl.py": ["--repeats", "1", "--steps", "10"],
    "position_bias.py": ["--limit", "1", "--orders", "2"],
    "t1_train_speed.py": ["--steps", "1", "--batch", "2", "--variants", "before", "fast"],
    "va_coverage.py": ["detective"],
}
SCRIPTS = sorted(p.name for p in (REPO / "benchmarks").glob("*.py") if not p.name.startswith("_"))


def test_every_benchmark_has_a_smoke_run() -> None:
    assert sorted(SMOKE) == SCRIPTS, "add the new script's tiniest arguments to SMOKE"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_with_tiny_settings(script: str, tmp_path) -> None:
    if script not in SMOKE:
        pytest.fail(f"benchmarks/{script} has no smoke arguments in SMOKE")
    env = {**os.environ, "S2B_GAMES_DIR": str(GAMES_DIR), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *SMOKE[script]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert proc.stdout.strip()
