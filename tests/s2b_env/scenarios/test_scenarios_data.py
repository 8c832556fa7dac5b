"""The shipped scenario data (coverage, split stability) and the schema validator."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from games import data_path
from s2b_env.scenarios.data import (
    DOMAINS,
    SPLITS,
    VALUE_IDS,
    Dilemma,
    JudgmentItem,
    load_scenarios,
    split_of,
    validate_files,
)

JUDGMENTS = data_path("scenarios", "judgments.jsonl")
DILEMMAS = data_path("scenarios", "dilemmas.jsonl")
SPLITS_FILE = data_path("scenarios", "splits.json")


@pytest.fixture(scope="module")
def judgments() -> list[JudgmentItem]:
    return load_scenarios(JUDGMENTS, kind="judgment")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def dilemmas() -> list[Dilemma]:
    return load_scenarios(DILEMMAS, kind="dilemma")  # type: ignore[return-value]


# --- the shipped data ----------------------------------------------------------------------------


def test_shipped_files_are_valid_and_large_enough(judgments, dilemmas) -> None:
    reports = validate_files([JUDGMENTS, DILEMMAS])
    assert [str(r.error) for r in reports if not r.ok] == []
    assert len(judgments) >= 150 and all(r.kind == "judgment" for r in judgments)
    assert len(dilemmas) >= 50 and all(r.kind == "dilemma" for r in dilemmas)


def test_judgment_items_are_well_formed(judgments) -> None:
    texts = set()
    for item in judgments:
        words = len(item.text.split())
        assert 150 <= words <= 400, f"{item.id}: {words} words"
        sides = {t.side for t in item.values}
        assert sides == {"narrator", "other"}, f"{item.id}: values in tension need both sides"
        assert len({t.value for t in item.values}) == len(item.values), f"{item.id}: repeated value"
        assert item.verdicts is not None and item.domain in DOMAINS and item.source == "s2b"
        assert item.text[:80] not in texts, f"{item.id}: duplicate text"
        texts.add(item.text[:80])


def test_dilemmas_are_well_formed(dilemmas) -> None:
    for d in dilemmas:
        assert 2 <= len(d.nodes) <= 6 and d.domain in DOMAINS
        for node in d.nodes.values():
            assert 2 <= len(node.options) <= 5
            labels = [o.label for o in node.options]
            assert len(set(labels)) == len(labels), f"{d.id}/{node.id}: repeated label"
            for option in node.options:
                assert any(option.effects), f"{d.id}/{node.id}: {option.label!r} has no effect"
                assert all(-3 <= e <= 3 for e in option.effects)


def test_every_value_is_covered(judgments, dilemmas) -> None:
    in_judgments = Counter(v for item in judgments for v in {t.value for t in item.values})
    in_dilemmas = Counter(
        value
        for d in dilemmas
        for value in {
            VALUE_IDS[i]
            for node in d.nodes.values()
            for option in node.options
            for i, e in enumerate(option.effects)
            if e
        }
    )
    thin_j = {v: in_judgments[v] for v in VALUE_IDS if in_judgments[v] < 10}
    thin_d = {v: in_dilemmas[v] for v in VALUE_IDS if in_dilemmas[v] < 5}
    assert thin_j == {}, f"values in fewer than 10 judgment items: {thin_j}"
    assert thin_d == {}, f"values in fewer than 5 dilemmas: {thin_d}"


def test_every_domain_is_covered(judgments, dilemmas) -> None:
    j = Counter(item.domain for item in judgments)
    d = Counter(item.domain for item in dilemmas)
    assert all(j[dom] >= 8 for dom in DOMAINS), j
    assert all(d[dom] >= 3 for dom in DOMAINS), d


def test_split_is_stable(judgments, dilemmas) -> None:
    """``splits.json`` freezes every shipped id's split; the hash rule must keep agreeing with it."""
    frozen = json.loads(SPLITS_FILE.read_text(encoding="utf-8"))
    assert set(frozen) == set(SPLITS)
    where = {item_id: split for split, ids in frozen.items() for item_id in ids}
    for item in [*judgments, *dilemmas]:
        assert item.id in where, f"{item.id} is not frozen in splits.json: add it"
        assert item.split == where[item.id] == split_of(item.id), f"{item.id} moved split"
    for kind in (judgments, dilemmas):
        counts = Counter(item.split for item in kind)
        assert all(counts[s] >= 0.08 * len(kind) for s in SPLITS), counts


def test_split_of_is_a_fixed_function() -> None:
    # pinned values: a change to the hash rule would move shipped ids
    assert [split_of(i) for i in ("j001", "j002", "j007", "d001")] == [
        "train",
        "validation",
        "test",
        "train",
    ]


# --- the validator -----------------------------------------------------------------------------

GOOD_JUDGMENT = {
    "schema_version": 1,
    "kind": "judgment",
    "id": "t-j1",
    "title": "Kept the umbrella",
    "text": "I borrowed my neighbour's umbrella and kept it for a month.",
    "values": [
        {"value": "benevolence_dependability", "side": "other"},
        {"value": "hedonism", "side": "narrator"},
    ],
    "verdicts": {"YTA": 0.7, "NTA": 0.1, "ESH": 0.1, "NAH": 0.1},
}
GOOD_DILEMMA = {
    "schema_version": 1,
    "kind": "dilemma",
    "id": "t-d1",
    "title": "The found ring",
    "intro": "You find a ring in the park.",
    "start": "a",
    "nodes": {
        "a": {
            "text": "It looks valuable.",
            "options": [
                {"label": "Keep it", "effects": {"power_resources": 2}, "next": "b"},
                {"label": "Hand it in", "effects": {"conformity_rules": 2}, "next": None},
            ],
        },
        "b": {
            "text": "A week later you see a lost-ring poster.",
            "options": [
                {"label": "Call the number", "effects": {"benevolence_caring": 2}, "next": None},
                {"label": "Ignore it", "effects": [0] * 19 + [-1], "next": None},
            ],
        },
    },
}


def _write(tmp_path: Path, records: list) -> Path:
    path = tmp_path / "scen.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _single_error(tmp_path: Path, bad, field: str, words: str) -> None:
    """Line 2 of a file (a good record first) is ``bad``: one error naming file, line 2, field."""
    path = _write(tmp_path, [GOOD_JUDGMENT, bad])
    reports = validate_files([path])
    assert [r.ok for r in reports] == [True, False]
    error = reports[1].error
    assert error.line == 2 and error.field == field and error.path == path
    message = str(error)
    assert str(path) in message and "line 2" in message and repr(field) in message
    assert words in message


def test_good_records_pass(tmp_path) -> None:
    reports = validate_files([_write(tmp_path, [GOOD_JUDGMENT, GOOD_DILEMMA])])
    assert [r.ok for r in reports] == [True, True]
    dilemma = reports[1].record
    assert dilemma.paths() == [[("a", 0), ("b", 0)], [("a", 0), ("b", 1)], [("a", 1)]]
    assert dilemma.nodes["b"].options[1].effects[-1] == -1


def test_rejects_missing_field(tmp_path) -> None:
    bad = {k: v for k, v in GOOD_JUDGMENT.items() if k != "text"} | {"id": "t-j2"}
    _single_error(tmp_path, bad, "text", "missing required field")


def test_rejects_wrong_type(tmp_path) -> None:
    bad = GOOD_JUDGMENT | {"id": "t-j2", "title": 42}
    _single_error(tmp_path, bad, "title", "expected text, got int")


def test_rejects_unknown_value_id(tmp_path) -> None:
    bad = GOOD_JUDGMENT | {"id": "t-j2", "values": [{"value": "kindness", "side": "other"}]}
    _single_error(tmp_path, bad, "values[0].value", "unknown value id 'kindness'")


def test_rejects_unknown_value_id_in_effects(tmp_path) -> None:
    bad = copy.deepcopy(GOOD_DILEMMA)
    bad["nodes"]["a"]["options"][0]["effects"] = {"greed": 2}
    _single_error(tmp_path, bad, "nodes.a.options[0].effects.greed", "unknown value id")


def test_rejects_unknown_verdict(tmp_path) -> None:
    bad = GOOD_JUDGMENT | {"id": "t-j2", "verdicts": {"YTA": 0.5, "INFO": 0.5}}
    _single_error(tmp_path, bad, "verdicts.INFO", "expected one of YTA, NTA, ESH, NAH")


def test_rejects_dangling_edge(tmp_path) -> None:
    bad = copy.deepcopy(GOOD_DILEMMA)
    bad["nodes"]["b"]["options"][0]["next"] = "c"
    _single_error(tmp_path, bad, "nodes.b.options[0].next", "dangling edge: node 'c'")


def test_rejects_cycle(tmp_path) -> None:
    bad = copy.deepcopy(GOOD_DILEMMA)
    bad["nodes"]["b"]["options"][1]["next"] = "a"
    _single_error(tmp_path, bad, "nodes.b.options[1].next", "cycle")


def test_rejects_duplicate_id(tmp_path) -> None:
    _single_error(tmp_path, GOOD_JUDGMENT | {"title": "Again"}, "id", "duplicate id 't-j1'")


def test_rejects_out_of_range_effect(tmp_path) -> None:
    bad = copy.deepcopy(GOOD_DILEMMA)
    bad["nodes"]["a"]["options"][1]["effects"] = {"conformity_rules": 5}
    _single_error(tmp_path, bad, "nodes.a.options[1].effects.conformity_rules", "-3..3, got 5")


def test_one_bad_line_does_not_hide_the_others(tmp_path) -> None:
    records = [GOOD_JUDGMENT, "{not json", GOOD_DILEMMA, "", GOOD_JUDGMENT | {"id": "t-j9"}]
    path = _write(tmp_path, records)
    reports = validate_files([path])
    assert [(r.line, r.ok, r.item_id) for r in reports] == [
        (1, True, "t-j1"),
        (2, False, None),
        (3, True, "t-d1"),
        (5, True, "t-j9"),
    ]
    assert "not valid JSON" in str(reports[1].error) and "line 2" in str(reports[1].error)
    with pytest.raises(ValueError, match="line 2"):
        load_scenarios(path)


def test_non_utf8_and_too_deep_lines_do_not_hide_the_others(tmp_path) -> None:
    path = tmp_path / "scen.jsonl"
    good = [json.dumps(r).encode("utf-8") for r in (GOOD_JUDGMENT, GOOD_DILEMMA)]
    third = json.dumps(GOOD_JUDGMENT | {"id": "t-j9", "title": "Caf\u00e9"}).encode("utf-8")
    lines = [good[0], b'{"id": "caf\xff"}', good[1], b"[" * 200_000, third]
    path.write_bytes(b"\n".join(lines) + b"\n")
    reports = validate_files([path])
    assert [(r.line, r.ok, r.item_id) for r in reports] == [
        (1, True, "t-j1"),
        (2, False, None),
        (3, True, "t-d1"),
        (4, False, None),
        (5, True, "t-j9"),
    ]
    assert reports[4].record.title == "Caf\u00e9"
    not_utf8, too_deep = reports[1].error, reports[3].error
    assert not_utf8.path == path and not_utf8.line == 2
    assert "not UTF-8 text" in str(not_utf8) and "0xff" in str(not_utf8)
    assert f"{path}, line 2" in str(not_utf8)
    assert too_deep.path == path and too_deep.line == 4
    assert "nested too deeply" in str(too_deep) and f"{path}, line 4" in str(too_deep)
    with pytest.raises(ValueError, match=r"line 2.*not UTF-8"):
        load_scenarios(path)
