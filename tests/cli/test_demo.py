"""``s2b demo``: the end-to-end demo on what ships with s2b."""

from __future__ import annotations

import json
import re

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
    code = main(
        ["demo", "--no-model", "--out", str(tmp_path), "--progress", "off"], console=console
    )
    out = console_text(console)
    assert code == 0, out
    assert "1. own games" in out and "3. out of domain" in out
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
    means = json.loads((tmp_path / "scenario_means.json").read_text())
    assert set(means) == {"dilemma", "judgment"} and set(means["dilemma"]) == {"random"}
    assert any(v != 0 for v in means["dilemma"]["random"].values())
    assert max(len(line) for line in out.splitlines()) <= 80


def test_demo_with_the_default_model(console, tmp_path) -> None:
    pytest.importorskip("transformers", reason="needs s2b[llm]")
    code = main(["demo", "--out", str(tmp_path), "--episodes", "2", "--progress", "off",
                 "--values", "benevolence_caring", "power_dominance", "--phrasings", "portrait"],
                console=console)  # fmt: skip
    out = console_text(console)
    assert code == 0, out
    assert "2. profile of" in out
    profile = json.loads((tmp_path / "profile" / "profile.json").read_text())
    assert profile["complete"]
    assert [row["value"] for row in profile["values"]] == ["power_dominance", "benevolence_caring"]
    means = json.loads((tmp_path / "scenario_means.json").read_text())
    assert set(means["judgment"]) == {"random", "llm"}


def test_demo_with_an_adapter_profiles_and_plays_the_adapter(console, tmp_path, lora_adapter):
    """``--adapter``: the demo's profile is the adapter's, as ``s2b profile --adapter`` gives it."""
    small = ["--values", "power_dominance", "--phrasings", "portrait"]
    code = main(["demo", "--adapter", str(lora_adapter), "--out", str(tmp_path / "demo"),
                 "--episodes", "1", "--progress", "off", *small], console=console)  # fmt: skip
    assert code == 0, console_text(console)
    demo = json.loads((tmp_path / "demo" / "profile" / "profile.json").read_text())
    code = main(["profile", "--adapter", str(lora_adapter), "--items", "heldout",
                 "--out", str(tmp_path / "direct"), *small], console=console)  # fmt: skip
    assert code == 0, console_text(console)
    direct = json.loads((tmp_path / "direct" / "profile.json").read_text())
    assert demo["values"][0]["mean"] == pytest.approx(direct["values"][0]["mean"], abs=1e-6)
    code = main(["profile", "--items", "heldout", "--out", str(tmp_path / "base"), *small],
                console=console)  # fmt: skip
    base = json.loads((tmp_path / "base" / "profile.json").read_text())
    assert abs(demo["values"][0]["mean"] - base["values"][0]["mean"]) > 1e-3  # really the adapter
    means = json.loads((tmp_path / "demo" / "scenario_means.json").read_text())
    assert set(means["judgment"]) == {"random", "llm"}


def test_demo_rejects_bad_options(console, tmp_path) -> None:
    assert main(["demo", "--episodes", "0", "--out", str(tmp_path)], console=console) == 2
    assert "--episodes must be >= 1" in console_text(console)
