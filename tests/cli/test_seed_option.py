"""``--seed -1`` is an error naming the option, before anything runs: issue 22, item 7."""

from __future__ import annotations

from io import StringIO

import pytest
from rich.console import Console

from s2b.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--env", "judgment", "--agent", "random", "--seed", "-1"],
        ["play", "judgment", "--agent", "random", "--seed", "-1"],
        ["profile", "--seed", "-1"],
        ["judge", "validate", "--seed", "-1"],
        ["run", "--env", "judgment", "--seed", "x"],
    ],
)
def test_negative_seed_names_the_option(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv, console=Console(file=StringIO()))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: expected an integer >= 0, got" in err


def test_seed_zero_is_fine(tmp_path) -> None:
    console = Console(file=StringIO(), width=200)
    argv = ["run", "--env", "judgment", "--agent", "random", "--seed", "0", "--episodes", "1",
            "--progress", "off", "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(argv, console=console) == 0, console.file.getvalue()
