"""Value profiles on the real default model: aggregation, bootstrap, resume, comparison."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from training.profile import (
    OUTPUT_FILES,
    ProfileConfig,
    load_profile,
    run_profile,
)
from training.profile_compare import compare_profiles
from training.survey_io import load_survey

pytest.importorskip("transformers", reason="needs s2b[llm]")

VALUES = ("hedonism", "tradition", "universalism_nature")


def small_config(out: Path, **kw) -> ProfileConfig:
    base = {"items": "heldout", "phrasings": ("portrait", "describes_you"), "values": VALUES}
    return ProfileConfig(out=out, bootstrap=500, **{**base, **kw})


@pytest.fixture(scope="module")
def small_profile(tf_backend, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("profile")
    return run_profile(tf_backend, load_survey(), small_config(out)), out


def test_profile_is_complete_and_consistent(small_profile) -> None:
    profile, out = small_profile
    survey = load_survey()
    assert profile["complete"] is True
    assert [r["value"] for r in profile["values"]] == list(VALUES)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()[1:]]
    n_items = sum(len(survey.select("heldout", values=v)) for v in VALUES)
    assert len(rows) == 2 * n_items == profile["summary"]["n_results"]
    for row in rows:
        assert math.isclose(sum(row["probs"]), 1.0, abs_tol=1e-6)
        expected = sum(p * r for p, r in zip(row["probs"], range(1, 7), strict=True))
        assert math.isclose(row["expected"], expected, abs_tol=1e-5)
        assert 0 < row["mass"] <= 1
    items = {i["id"]: i for i in profile["items"]}
    grand = sum(i["score"] for i in items.values()) / len(items)
    for value in profile["values"]:
        scores = [i["score"] for i in items.values() if i["value"] == value["value"]]
        assert (
            value["n_items"] == len(scores) == len(survey.select("heldout", values=value["value"]))
        )
        assert math.isclose(value["mean"], sum(scores) / len(scores), rel_tol=1e-9)
        assert 1 <= value["ci_low"] <= value["mean"] <= value["ci_high"] <= 6
        assert value["ci_high"] - value["ci_low"] > 0
        assert math.isclose(value["centred"], value["mean"] - grand, abs_tol=1e-9)
        assert value["centred_ci_low"] <= value["centred"] <= value["centred_ci_high"]
    # item scores are the mean over phrasings of the per-row expected ratings
    for item_id, item in items.items():
        mine = [r["expected"] for r in rows if r["item"] == item_id]
        assert math.isclose(item["score"], sum(mine) / len(mine), abs_tol=1e-5)


def test_outputs_written(small_profile) -> None:
    profile, out = small_profile
    assert load_profile(out)["values"] == profile["values"]
    with (out / "profile.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["value"] for r in table] == list(VALUES)
    with (out / "items.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == profile["summary"]["n_results"]
    png = (out / "profile.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_interrupted_run_resumes_and_never_shows_a_partial_profile(
    tf_backend, small_profile, tmp_path: Path
) -> None:
    full, _ = small_profile
    config = small_config(tmp_path)
    seen: list[int] = []

    def stop_after_five(done, total, result):
        if result is not None:
            seen.append(done)
            if len(seen) == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_profile(tf_backend, load_survey(), config, progress=stop_after_five)
    assert not (tmp_path / "profile.json").exists()
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 1 + 5
    with pytest.raises(FileNotFoundError):
        load_profile(tmp_path)
    # a run killed mid-write leaves a cut-off last line: it is dropped and redone
    with (tmp_path / "results.jsonl").open("a") as fh:
        fh.write('{"item": "hedonism.0')
    calls: list[int] = []
    resumed = run_profile(
        tf_backend, load_survey(), config, progress=lambda d, t, r: calls.append(d) if r else None
    )
    assert calls[0] == 6 and calls[-1] == full["summary"]["n_results"]
    for a, b in zip(resumed["values"], full["values"], strict=True):
        assert math.isclose(a["mean"], b["mean"], abs_tol=1e-6)
        assert math.isclose(a["ci_low"], b["ci_low"], abs_tol=1e-6)


def test_resume_refuses_results_of_another_run(tf_backend, small_profile) -> None:
    _, out = small_profile
    before = {name: (out / name).read_bytes() for name in (*OUTPUT_FILES, "results.jsonl")}
    with pytest.raises(ValueError, match="different run"):
        run_profile(tf_backend, load_survey(), small_config(out, phrasings=("portrait",)))
    # the refused run leaves the other run's profile and results as they were
    assert {name: (out / name).read_bytes() for name in before} == before


def test_bad_results_line_is_a_data_error(tf_backend, tmp_path: Path, small_profile) -> None:
    _, out = small_profile
    lines = (out / "results.jsonl").read_text().splitlines()
    bad = json.loads(lines[2])
    bad["probs"] = [0.5, 0.5, 0.5, 0, 0, 0]
    (tmp_path / "results.jsonl").write_text(
        "\n".join([lines[0], lines[1], json.dumps(bad), lines[3]]) + "\n"
    )
    with pytest.raises(DataError, match=r"line 3, field 'probs'"):
        run_profile(tf_backend, load_survey(), small_config(tmp_path))


def test_compare(tf_backend, tf_adapter_backend, small_profile, tmp_path: Path) -> None:
    base, _ = small_profile
    same = compare_profiles(base, base, bootstrap=300)
    assert all(r["diff"] == 0 and r["ci_low"] == r["ci_high"] == 0 for r in same["values"])
    adapted = run_profile(tf_adapter_backend, load_survey(), small_config(tmp_path))
    assert "adapter" in adapted["meta"]["model"]
    cmp = compare_profiles(base, adapted, bootstrap=300)
    by_item = {i["id"]: i["score"] for i in adapted["items"]}
    for row in cmp["values"]:
        diffs = [by_item[i["id"]] - i["score"] for i in base["items"] if i["value"] == row["value"]]
        assert math.isclose(row["diff"], sum(diffs) / len(diffs), abs_tol=1e-9)
        assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    assert any(abs(r["diff"]) > 1e-3 for r in cmp["values"])  # the random adapter moves ratings


def test_config_validates(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="items"):
        ProfileConfig(items="test", out=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bootstrap"):
        ProfileConfig(bootstrap=5, out=tmp_path)
    with pytest.raises(TypeError, match="phrasings"):
        ProfileConfig(phrasings="portrait", out=tmp_path)  # type: ignore[arg-type]


def test_unknown_phrasing_is_a_value_error(tf_backend, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no phrasing with id 'casual'"):
        run_profile(tf_backend, load_survey(), small_config(tmp_path, phrasings=("casual",)))
    assert not (tmp_path / "results.jsonl").exists()
