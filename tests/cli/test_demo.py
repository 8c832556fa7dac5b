"""``s2b demo``: the end-to-end demo on what ships with s2b."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from s2b.cli import main
from s2b.cli.demo import SHOWN_VALUES
from s2b_env.inform.build import (
    annotations_file,
    own_game_names,
    source_file,
    walkthrough_files,
)
from s2b_env.inform.data import load_annotations, load_walkthrough
from tests.conftest import console_text


def test_demo_without_the_model(console, tmp_path) -> None:
    quick = ["demo", "--no-model", "--quick", "--out", str(tmp_path), "--progress", "off"]
    code = main(quick, console=console)
    out = console_text(console)
    assert code == 0, out
    assert "1. own games" in out and "3. bench" in out
    # Each own game's row is checked against its data files, not the env: the events its route
    # file says each command fires, summed with the effects in the game's annotation table, and
    # the score and outcome the route file declares.
    for game in own_game_names():
        events = load_annotations(annotations_file(game))
        for route in ("caring", "self_interested"):
            walk = load_walkthrough(walkthrough_files(game)[route])
            expected = {v: 0.0 for v in SHOWN_VALUES}
            for event in walk.all_events:
                for v in SHOWN_VALUES:
                    expected[v] += events[event].effects[v]
            label = route.replace("self_interested", "selfish")
            row = next(
                line.split() for line in out.splitlines() if line.split()[:2] == [game, label]
            )
            max_score = re.search(
                r"^Constant MAX_SCORE = (\d+);", source_file(game).read_text(), re.M
            )
            assert row[2] == f"{walk.score}/{max_score.group(1)}"
            assert [float(x) for x in row[3:]] == list(expected.values()), (game, route)
    # The bench: the random agent on one own game, both scenario kinds and a Jiminy game.
    units = [
        json.loads(line) for line in (tmp_path / "bench" / "units.jsonl").read_text().splitlines()
    ]
    envs = {u["env"] for u in units}
    assert {"dilemma", "judgment", "jiminy-zork1"} <= envs and {u["agent"] for u in units} == {
        "random"
    }
    assert len(units) == len(envs) * 2 and all(u["status"] == "ok" for u in units)
    assert "3. bench: reward" in out and (tmp_path / "bench" / "report.md").is_file()
    assert max(len(line) for line in out.splitlines() if str(tmp_path) not in line) <= 80
    # A rerun continues: nothing is played twice.
    assert main(quick, console=console) == 0
    again = (tmp_path / "bench" / "units.jsonl").read_text().splitlines()
    assert len(again) == len(units)


@pytest.mark.timeout(1200)  # minutes on an idle 2-core CPU; more on a shared one
def test_demo_aligns_then_benches_base_against_aligned(console, tmp_path, monkeypatch) -> None:
    pytest.importorskip("transformers", reason="needs s2b[llm]")
    monkeypatch.delenv("S2B_GAMES_DIR", raising=False)  # no Jiminy game: one fewer env
    code = main(["demo", "--quick", "--out", str(tmp_path), "--progress", "off",
                 "--episodes", "1", "--values", "power_dominance", "hedonism"], console=console)  # fmt: skip
    out = console_text(console)
    assert code == 0, out
    results = json.loads((tmp_path / "align" / "results.json").read_text())
    assert results["moved_values"] == ["power_dominance"] and results["direction"] == "down"
    target = results["target"]
    assert f"held-out survey shift {target['mean']:+.2f}" in " ".join(out.split())
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())["config"]
    aligned = next(a for a in bench["agents"] if a["name"] == "aligned")
    assert Path(aligned["adapter"]).resolve() in (
        (tmp_path / "align").resolve(),
        (tmp_path / "align" / "adapter").resolve(),
    )
    units = [
        json.loads(line) for line in (tmp_path / "bench" / "units.jsonl").read_text().splitlines()
    ]
    assert {u["agent"] for u in units} == {"random", "base", "aligned"}
    report = (tmp_path / "bench" / "report.md").read_text()
    assert "### Per value: aligned − base" in report and "survey held-out (in domain)" in report
    # The honest lines (wrapped at 80 columns): the trained value's survey and behaviour shifts.
    flat = " ".join(out.split())
    row = next(r for r in results["values"] if r["value"] == "power_dominance")
    survey = f"{row['shift']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
    assert f"- power_dominance on held-out survey items: {survey}" in flat
    assert re.search(
        r"power_dominance in behaviour on dilemma: aligned − base \S+ \[\S+, \S+\] over 1 "
        r"episodes, (moved|did not move)",
        flat,
    )


@pytest.mark.timeout(1200)
def test_demo_with_an_adapter_benches_that_adapter(console, tmp_path, lora_adapter, monkeypatch):
    monkeypatch.delenv("S2B_GAMES_DIR", raising=False)
    code = main(["demo", "--quick", "--adapter", str(lora_adapter), "--out", str(tmp_path),
                 "--episodes", "1", "--progress", "off"], console=console)  # fmt: skip
    assert code == 0, console_text(console)
    assert not (tmp_path / "align").exists()
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())["config"]
    aligned = next(a for a in bench["agents"] if a["name"] == "aligned")
    assert Path(aligned["adapter"]).resolve() == lora_adapter.resolve()


def test_demo_rejects_bad_options(console, tmp_path) -> None:
    assert main(["demo", "--episodes", "0", "--out", str(tmp_path)], console=console) == 2
    assert "--episodes must be >= 1" in console_text(console)
    assert main(["demo", "--value", "greed", "--out", str(tmp_path)], console=console) == 2
    assert "--value: expected a value id" in console_text(console)
