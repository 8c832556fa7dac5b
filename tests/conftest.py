"""Shared fixtures: where the shared story files are, and a console that records output."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

REPO = Path(__file__).resolve().parents[1]
GAMES_DIR = Path(os.environ.get("S2B_GAMES_DIR") or REPO.parent / "shared" / "games").resolve()
JERICHO_DIR = GAMES_DIR / "jericho"
JIMINY_DIR = GAMES_DIR / "jiminy-cricket"

# vLLM servers the tests start (and those of the commands they run) skip vLLM's model compilation:
# about 45 s to come up instead of about 100 s, the same server otherwise (vLLM never compiles a
# server with LoRA adapters on the CPU anyway). The P5 smoke run in tests/benchmarks starts its
# server compiled, vLLM's default, so that path still runs once per suite.
os.environ.setdefault("S2B_VLLM_EAGER", "1")


def shared_jericho_games() -> list[str]:
    """Names of the story files in the shared Jericho folder (empty if it is absent)."""
    if not JERICHO_DIR.is_dir():
        return []
    return sorted(p.stem for p in JERICHO_DIR.iterdir() if p.suffix[:2] == ".z")


def shared_jiminy_games() -> list[str]:
    """Names of the Jiminy Cricket game folders in the shared folder that ``games.json`` describes
    (other folders there, such as the benchmark's ``reference/`` code, are not games)."""
    facts = JIMINY_DIR / "games.json"
    if not facts.is_file():
        return []
    described = json.loads(facts.read_text())["games"]
    return sorted(p.name for p in JIMINY_DIR.iterdir() if p.is_dir() and p.name in described)


@pytest.fixture(scope="session")
def games_dir() -> Path:
    """The shared games directory (``S2B_GAMES_DIR`` or ``../shared/games``)."""
    if not JERICHO_DIR.is_dir():
        pytest.fail(
            f"shared games not found at {GAMES_DIR}; set S2B_GAMES_DIR to the folder holding "
            "jericho/ and jiminy-cricket/"
        )
    return GAMES_DIR


@pytest.fixture
def console() -> Console:
    """A rich console writing to a string, 80 columns wide, no colour."""
    return Console(file=StringIO(), width=80, color_system=None, force_terminal=False)


def console_text(console: Console) -> str:
    """Everything a :func:`console` fixture has printed."""
    return console.file.getvalue()  # type: ignore[attr-defined]


# Real-model session fixtures (default model, LoRA adapter, vLLM server), loaded once per session.
from tests.model_fixtures import *  # noqa: E402, F403
