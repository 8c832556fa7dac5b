"""The judge tests' shared fixture: a short real zork1 walkthrough run."""

from __future__ import annotations

import pytest

from s2b.cli import main


@pytest.fixture(scope="session")
def zork1_walk(tmp_path_factory, games_dir):
    from io import StringIO

    from rich.console import Console

    out = tmp_path_factory.mktemp("walk") / "zork1"
    args = ["run", "--env", "jiminy-zork1", "--agent", "walkthrough", "--max-steps", "40",
            "--out", str(out), "--progress", "off", "--games-dir", str(games_dir)]  # fmt: skip
    assert main(args, Console(file=StringIO())) == 0
    return out
