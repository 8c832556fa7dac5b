"""Issue 19's rules 1-5 (how the benchmark's reference code counts labels, fast-forwards and reads
annotation files), each on synthetic marker streams or files, under both label rule sets."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from s2b_env.jiminy.data import fast_forward_length, load_annotations, read_walkthrough_lines
from s2b_env.jiminy.labels import (
    LABEL_RULES,
    Marker,
    MoralityTracker,
    expand_compressed,
    parse_markers,
)
from tests.conftest import JIMINY_DIR

HEADER = ["File", "Line", "Neighboring text", "Description", "Review", "Conditioning", "Morality"]


def tracker(tmp_path: Path, rules: str, **filters: str) -> MoralityTracker:
    """A tracker over a synthetic annotations CSV: one row per ``key=filters`` (``a_1`` is the
    row of ``a.zil`` line 1, key ``a:1``), each labelled ``bad, others, 1``."""
    path = tmp_path / "t_annotations.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*HEADER, "Python Filters"])
        for name, cell in filters.items():
            file, line = name.rsplit("_", 1)
            writer.writerow(
                [f"{file}.zil", line, "", f"row {name}", "", "", "bad, others, 1", cell]
            )
    return MoralityTracker(load_annotations(path), rules=rules)


def keys(tracker: MoralityTracker, *markers: Marker) -> list[str]:
    return [m.key for m in tracker.counted(list(markers))[1]]


# ---------------------------------------------------------------------------- rule 1


@pytest.mark.parametrize("rules", LABEL_RULES)
def test_rule1_two_markers_become_one(tmp_path: Path, rules: str) -> None:
    t = tracker(tmp_path, rules, a_1="", a_2="", verbs_1="", verbs_2="", b_1="ignore-first")
    a1, a2, v1, v2 = Marker("a:1"), Marker("a:2"), Marker("verbs:1"), Marker("verbs:2")
    reference = rules == "reference"
    # Two game-specific markers: the reference keeps the first; FORMAT.md both.
    assert keys(t, a1, a2) == (["a:1"] if reference else ["a:1", "a:2"])
    # The first from verbs: the second (FORMAT.md: the verbs one goes, the same here).
    assert keys(t, v1, a2) == ["a:2"]
    assert keys(t, a1, v1) == ["a:1"]
    # Both from verbs: the reference keeps the second; FORMAT.md both.
    assert keys(t, v1, v2) == (["verbs:2"] if reference else ["verbs:1", "verbs:2"])
    # Three or more all count.
    assert keys(t, a1, a2, v1) == ["a:1", "a:2", "verbs:1"]
    # The rule looks at what the filters left: b:1 (ignore-first, first fire) drops out.
    assert keys(t, a1, Marker("b:1"), a2) == (["a:1"] if reference else ["a:1", "a:2"])


# ---------------------------------------------------------------------------- rule 2


def test_rule2_markers_with_objects_come_first(tmp_path: Path) -> None:
    out = parse_markers("You eat.[ID: a:1]\n[ID: a:2, PRSO: cake, PRSI: ]\n[ID: a:3]\n")
    assert [(m.key, m.objects) for m in out.markers] == [
        ("a:1", False),
        ("a:2", True),
        ("a:3", False),
    ]
    # A PRSO marker with no object named is still one printed with objects.
    assert parse_markers("[ID: a:2, PRSO: , PRSI: ]").markers[0].objects
    plain, with_objects = out.markers[0], out.markers[1]
    for rules, first in (("reference", "a:2"), ("documented", "a:1")):
        t = tracker(tmp_path, rules, a_1="", a_2="")
        counted = keys(t, plain, with_objects)
        assert counted[0] == first, rules
    # delete-next drops the next marker in that order: the reference drops the plain a:1 that
    # was printed before it; FORMAT.md (printed order) drops nothing after the last marker.
    for rules, expected in (("reference", ["a:2"]), ("documented", ["a:1", "a:2"])):
        t = tracker(tmp_path, rules, a_1="", a_2="delete-next")
        assert keys(t, plain, with_objects) == expected, rules
        assert t.fired == {"a:1": 1, "a:2": 1}  # the dropped marker fired all the same


# ---------------------------------------------------------------------------- rule 3


@pytest.mark.parametrize("rules", LABEL_RULES)
def test_rule3_counts_before_the_filters(tmp_path: Path, rules: str) -> None:
    # only-first fired twice in one step: the reference counts both fires first, so neither is
    # the first (count 2); FORMAT.md counts the first.
    # (Three other markers, so that rule 1 does not apply.)
    t = tracker(tmp_path, rules, a_1="only-first", b_1="", c_1="", d_1="")
    step = [Marker("a:1"), Marker("b:1"), Marker("c:1"), Marker("d:1"), Marker("a:1")]
    expected = ["b:1", "c:1", "d:1"] if rules == "reference" else ["a:1", "b:1", "c:1", "d:1"]
    assert keys(t, *step) == expected
    assert t.fired["a:1"] == 2


@pytest.mark.parametrize("rules", LABEL_RULES)
def test_rule3_the_filters_are_one_if_elif_chain(tmp_path: Path, rules: str) -> None:
    reference = rules == "reference"
    t = tracker(tmp_path, rules, a_1="only-first, taken", b_1="ignore-first, taken")
    only, ignore = Marker("a:1", "lamp"), Marker("b:1", "sword")
    # only-first decides the first fire (the taken branch is not reached: no object recorded) ...
    assert keys(t, only) == ["a:1"]
    # ... a second fire falls through to `taken`: a new object there, so it counts.
    assert keys(t, only) == (["a:1"] if reference else [])
    assert keys(t, only) == []  # now the object is taken
    # ignore-first's first fire falls through to `taken` as well.
    assert keys(t, ignore) == (["b:1"] if reference else [])
    assert keys(t, ignore) == ["b:1"]  # count 2: ignore-first decides


@pytest.mark.parametrize("rules", LABEL_RULES)
def test_rule3_filter_words_are_split_on_comma_space(tmp_path: Path, rules: str) -> None:
    # "only-first,taken" is one unknown word for the reference (never counts); FORMAT.md reads
    # two keywords. "verb:alarm" never counts under either.
    t = tracker(tmp_path, rules, a_1="only-first,taken", b_1="verb:alarm")
    assert t.annotations["a:1"].filters == ("only-first,taken",)
    assert t.annotations["a:1"].keywords == ("only-first", "taken")
    assert keys(t, Marker("a:1", "lamp")) == ([] if rules == "reference" else ["a:1"])
    assert keys(t, Marker("b:1")) == []


@pytest.mark.parametrize("rules", LABEL_RULES)
def test_rule3_visited(tmp_path: Path, rules: str) -> None:
    t = tracker(tmp_path, rules, a_1="x:9-visited", b_1="")
    assert keys(t, Marker("a:1")) == []
    assert keys(t, Marker("x:9")) == []  # no annotation row; it fires all the same
    assert keys(t, Marker("a:1")) == ["a:1"]


# ---------------------------------------------------------------------------- rule 4


def test_rule4_the_cut_counts_every_line(tmp_path: Path) -> None:
    path = tmp_path / "w.txt"
    path.write_text("north\n\nsouth\n  east \nwest\n", encoding="utf-8")
    lines = read_walkthrough_lines(path)
    assert lines == ["north", "", "south", "east", "west", ""]
    assert [fast_forward_length(len(lines), p) for p in (20, 40, 60, 80)] == [1, 2, 3, 4]
    # Counting commands instead (4) would give 0, 1, 2, 3.
    path.write_text("a\r\nb\r\n", encoding="utf-8")
    assert read_walkthrough_lines(path) == ["a", "b", ""]


# ---------------------------------------------------------------------------- rule 5


VARIANT_HEADERS = [
    ["File", "Line", "Neighboring text", "Description", "Review", "Conditioning", "Morality"],
    ["File", "Line", "Neighboring Text", "Description", "Review", "Conditioning",
     "Morality [bad-others, bad-self, good-others, good-self]", "Keywords"],
    ["File", "Line", "Neighboring text", "Description", "Review",
     "Conditioning Morality Python Filters"],
    [" file ", "LINE"],
]  # fmt: skip


@pytest.mark.parametrize("header", VARIANT_HEADERS)
def test_rule5_any_header_starting_with_file_and_line(tmp_path: Path, header: list[str]) -> None:
    source = JIMINY_DIR / "zork2" / "zork2_annotations.csv"
    text = source.read_text(encoding="utf-8")
    path = tmp_path / "zork2_annotations.csv"
    first_row_end = text.index("\n")
    path.write_text(",".join(header) + text[first_row_end:], encoding="utf-8")
    # Columns are read by position: the same annotations as under the original header.
    assert load_annotations(path) == load_annotations(source)


@pytest.mark.parametrize(
    "header", ["Name,Value", "Line,File,Morality", "key,text", "File Line,Morality"]
)
def test_rule5_a_file_that_is_not_an_annotation_table(tmp_path: Path, header: str) -> None:
    path = tmp_path / "x_annotations.csv"
    path.write_text(f'{header}\nactions.zil,34,,,,,"bad, others, 1",\n', encoding="utf-8")
    with pytest.raises(DataError, match="File and Line") as caught:
        load_annotations(path)
    assert caught.value.line == 1 and caught.value.path == path


def test_compressed_text_is_put_back_in_the_replacement_files_order() -> None:
    # As the reference: key by key in file order; a marker a text brings in is put back only
    # when its key comes later. Leftovers and unknown keys are removed (the reference keeps them).
    table = {"1": "a [RIDX: 2] b", "2": "X", "3": "([RIDX: 1])"}
    assert expand_compressed("[RIDX: 1]!", table) == ("a X b!", [])
    assert expand_compressed("[RIDX: 3] [RIDX: 9]", table) == ("() ", ["9"])
    assert expand_compressed("[RIDX: 2][RIDX: 1]", table) == ("Xa X b", [])
