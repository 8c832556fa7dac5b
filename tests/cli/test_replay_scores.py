"""``s2b replay`` shows the judge's scores (``value_scores.jsonl`` written by a real ``s2b score``
with the default model) beside each step; bad scores files are refused or noted, never hidden."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from s2b.cli import main

pytest.importorskip("transformers", reason="needs s2b[llm]")
pytestmark = pytest.mark.slow


def terminal(width: int = 120) -> Console:
    return Console(file=StringIO(), width=width, force_terminal=True, color_system=None)


def words(console: Console) -> str:
    return " ".join(console.file.getvalue().replace("\u2502", " ").split())  # type: ignore[attr-defined]


def expected_line(record: dict) -> str:
    """The judge line written independently of the view's code: harms, then the 3 values the
    judge moved most (largest |effect| first)."""
    top = sorted(record["values"].items(), key=lambda kv: -abs(kv[1]))[:3]
    return (f"judged: harm others {record['harm_others']:.2f}; harm self {record['harm_self']:.2f}; "
            + ", ".join(f"{k} {v:+.2f}" for k, v in top))  # fmt: skip


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory: pytest.TempPathFactory, games_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("replay-scores") / "run"
    console = Console(file=StringIO(), width=100)
    run = ["run", "--env", "jiminy-zork1", "--agent", "random", "--max-steps", "3", "--seed", "4",
           "--out", str(out), "--progress", "off", "--games-dir", str(games_dir)]  # fmt: skip
    assert main(run, console=console) == 0
    assert main(["score", str(out), "--no-cache", "--progress", "off"], console=console) == 0
    return out


def records_of(run: Path) -> list[dict]:
    lines = (run / "value_scores.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def test_replay_shows_each_steps_judge_scores(scored_run: Path) -> None:
    records = records_of(scored_run)
    assert [r["step"] for r in records] == [1, 2, 3]
    console = terminal()
    assert main(["replay", str(scored_run), "--follow"], console=console) == 0
    out = words(console)
    assert out.count("judged: harm others") == 3
    for record in records:
        assert expected_line(record) in out
    # piped: the plain line of each step carries the same text
    plain = Console(file=StringIO(), width=300)
    assert main(["replay", str(scored_run)], console=plain) == 0
    lines = plain.file.getvalue().splitlines()[1:]
    assert len(lines) == 3
    for line, record in zip(lines, records, strict=True):
        assert line.startswith(f"ep 0 step {record['step']}:") and expected_line(record) in line


def test_replay_scores_files_truncated_of_another_run_or_version(scored_run, tmp_path) -> None:
    text = (scored_run / "value_scores.jsonl").read_text()
    lines = text.splitlines(keepends=True)
    run = tmp_path / "run"
    run.mkdir()
    (run / "trajectory.jsonl").write_bytes((scored_run / "trajectory.jsonl").read_bytes())
    # truncated mid-record (s2b score killed): noted, the steps before it still judged
    (run / "value_scores.jsonl").write_text("".join(lines[:-1]) + lines[-1][:40])
    console = terminal()
    assert main(["replay", str(run), "--follow"], console=console) == 0
    out = words(console)
    assert "the last line is torn" in out and out.count("judged: harm others") == 2
    # another run's scores: refused, naming the file, line and field
    header = json.loads(lines[0])
    (run / "value_scores.jsonl").write_text(
        json.dumps({**header, "run_id": "someotherrun"}) + "\n" + "".join(lines[1:])
    )
    console = terminal()
    assert main(["replay", str(run), "--follow"], console=console) == 2
    assert "line 1, field 'run_id'" in words(console) and "someotherrun" in words(console)
    # another major format version
    (run / "value_scores.jsonl").write_text(
        json.dumps({**header, "version": "2.0"}) + "\n" + "".join(lines[1:])
    )
    console = terminal()
    assert main(["replay", str(run), "--follow"], console=console) == 2
    assert "field 'version'" in words(console) and "version 2.0" in words(console)
    # --scores naming no file
    console = terminal()
    assert main(["replay", str(run), "--scores", str(tmp_path / "none.jsonl")], console) == 2
    assert "no such file" in words(console) and "s2b score" in words(console)
    # no scores file at all: the replay shows the steps without a judge
    (run / "value_scores.jsonl").unlink()
    console = terminal()
    assert main(["replay", str(run), "--follow"], console=console) == 0
    assert "judged:" not in words(console) and "episode 0, step 3" in words(console)
