"""``s2b profile`` and ``s2b serve`` from the command line (real default model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2b.cli import main
from tests.conftest import console_text

pytest.importorskip("transformers", reason="needs s2b[llm]")

SMALL = ["--items", "heldout", "--phrasings", "portrait", "--values", "stimulation", "humility"]


def test_profile_and_compare(tmp_path: Path, console, default_model_dir) -> None:
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    code = main(["profile", *SMALL, "--out", str(out_a), "--progress", "plain"], console=console)
    text = console_text(console)
    assert code == 0, text
    for name in ("profile.json", "profile.csv", "items.csv", "profile.png", "results.jsonl"):
        assert (out_a / name).is_file(), name
    profile = json.loads((out_a / "profile.json").read_text())
    assert [v["value"] for v in profile["values"]] == ["stimulation", "humility"]
    assert "value profile" in text and "stimulation" in text and "mean digit mass" in text
    assert f"{profile['summary']['n_results']}/{profile['summary']['n_results']}" in text

    # the same command again resumes: every answer is already there
    code = main(["profile", *SMALL, "--out", str(out_a), "--progress", "off"], console=console)
    assert code == 0
    assert json.loads((out_a / "profile.json").read_text())["values"] == profile["values"]

    code = main(
        ["profile", *SMALL, "--model", str(default_model_dir), "--out", str(out_b),
         "--progress", "off", "--seed", "1"],
        console=console,
    )  # fmt: skip
    assert code == 0
    cmp_out = tmp_path / "cmp"
    code = main(
        ["profile", "--compare", str(out_a / "profile.json"), str(out_b), "--out", str(cmp_out)],
        console=console,
    )
    assert code == 0
    comparison = json.loads((cmp_out / "compare.json").read_text())
    assert all(abs(r["diff"]) < 1e-9 for r in comparison["values"])  # same model, same answers
    assert (cmp_out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "0 of 2 values changed" in console_text(console)


def test_profile_errors_are_one_clear_line(tmp_path: Path, console) -> None:
    code = main(["profile", "--model", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")],
                console=console)  # fmt: skip
    assert code == 2
    assert "no such model folder" in console_text(console)
    code = main(["profile", "--compare", str(tmp_path / "x.json"), str(tmp_path / "y.json")],
                console=console)  # fmt: skip
    assert code == 2
    assert "no such profile" in console_text(console)
    code = main(["profile", *SMALL[:2], "--values", "kindness", "--out", str(tmp_path / "o")],
                console=console)  # fmt: skip
    assert code == 2
    assert "unknown value id 'kindness'" in console_text(console)


def test_serve_validates_before_starting(console) -> None:
    code = main(["serve", "--adapter", "no-equals-sign"], console=console)
    assert code == 2
    assert "NAME=FOLDER" in console_text(console)
