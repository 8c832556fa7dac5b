"""A user's own survey (``--items-file``, ``--phrasings-file``) in ``s2b profile`` and
``s2b align``: a 2-value items file gives a 2-value profile on the real default model; a malformed
file is a one-line error naming file, line and field, before any model is loaded."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from s2b.cli import main
from s2b_env.errors import DataError
from tests.conftest import console_text
from training.align import make_plan
from training.align_config import build_config
from training.survey_io import load_custom_survey, load_items

VALUES = ("hedonism", "tradition")
ITEMS = [
    {"id": "my.h1", "value": "hedonism", "text": "Having a good time matters to them.", "split": "heldout"},
    {"id": "my.h2", "value": "hedonism", "text": "They seek every chance to enjoy life.", "split": "train"},
    {"id": "my.t1", "value": "tradition", "text": "Keeping old customs is important to them.", "split": "heldout"},
    {"id": "my.t2", "value": "tradition", "text": "They follow the ways of their family's faith.", "split": "train"},
]  # fmt: skip


def _write(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def _console() -> Console:
    return Console(file=StringIO(), width=200, color_system=None)


def test_a_two_value_file_loads_and_plans(tmp_path: Path) -> None:
    survey = load_custom_survey(_write(tmp_path / "mine.jsonl", ITEMS))
    assert survey.values == VALUES and len(survey.items) == 4
    assert [p.id for p in survey.phrasings] == ["portrait", "describes_you", "inline_scale"]
    # the shipped rules still hold for the shipped file's loader: all 20 values
    with pytest.raises(DataError, match="has 0 held-out items"):
        load_items(tmp_path / "mine.jsonl")
    config = build_config(
        overrides={
            "values": ("hedonism",),
            "train_items_per_value": 1,
            "items_file": tmp_path / "mine.jsonl",
        }
    )
    plan = make_plan(config, survey, ["hedonism"])
    assert plan.anchors == ("tradition",) and plan.evaluated == VALUES
    with pytest.raises(ValueError, match=r"no training or held-out items of \['stimulation'\]"):
        make_plan(build_config(overrides={"values": ("stimulation",)}), survey, ["stimulation"])


@pytest.mark.parametrize(
    ("record", "line", "field", "part"),
    [
        ({"id": "my.x", "value": "hedonsim", "text": "A new statement here.", "split": "train"},
         3, "value", "did you mean 'hedonism'"),
        ({"id": "my.x", "value": "hedonism", "text": "Another statement.", "split": "test"},
         3, "split", "unknown split 'test'"),
        ('{"id": "my.x", "value": ', 3, None, "invalid JSON"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["profile", "align"])
def test_a_malformed_file_is_a_one_line_error(tmp_path, record, line, field, part, command) -> None:
    path = _write(tmp_path / "bad.jsonl", [*ITEMS[:2], record, *ITEMS[2:]])
    console = _console()
    args = ["profile", "--items-file", str(path), "--out", str(tmp_path / "out")]
    if command == "align":
        args = ["align", "--value", "hedonism", "--items-file", str(path),
                "--run-dir", str(tmp_path / "run")]  # fmt: skip
    assert main(args, console=console) == 2
    text = console_text(console).strip()
    assert len(text.splitlines()) == 1, text
    assert str(path) in text and f"line {line}" in text and part in text
    if field:
        assert f"field {field!r}" in text
    assert not (tmp_path / "out").exists() and not (tmp_path / "run").exists()


def test_a_malformed_phrasings_file_names_its_field(tmp_path: Path) -> None:
    path = tmp_path / "ph.json"
    path.write_text('{"phrasings": [\n {"id": "p1", "user": "Rate this."}\n]}\n')
    console = _console()
    args = ["profile", "--phrasings-file", str(path), "--out", str(tmp_path / "out")]
    assert main(args, console=console) == 2
    text = console_text(console).strip()
    assert len(text.splitlines()) == 1 and str(path) in text
    assert "line 2" in text and "phrasings[0].user" in text and "{statement}" in text


@pytest.mark.slow
def test_profile_of_a_two_value_file_has_two_values(tmp_path: Path, default_model_dir) -> None:
    items = _write(tmp_path / "mine.jsonl", ITEMS)
    out = tmp_path / "profile"
    console = _console()
    code = main(
        ["profile", "--items-file", str(items), "--phrasings", "portrait", "--bootstrap", "200",
         "--out", str(out), "--progress", "off"],
        console=console,
    )  # fmt: skip
    assert code == 0, console_text(console)
    profile = json.loads((out / "profile.json").read_text())
    assert [r["value"] for r in profile["values"]] == list(VALUES)
    assert [r["n_items"] for r in profile["values"]] == [2, 2]
    assert sorted(i["id"] for i in profile["items"]) == sorted(r["id"] for r in ITEMS)
    rows = (out / "profile.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("hedonism,")
