"""The value survey: the shipped items and phrasings, the fixed split, and the loader's errors."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from s2b_env.values import VALUE_IDS
from training.survey import (
    MIN_HELDOUT_PER_VALUE,
    SCALE,
    Phrasing,
    Survey,
    SurveyItem,
    default_items_path,
    format_scale,
    normalize_text,
)
from training.survey_io import load_items, load_phrasings, load_survey

# The held-out items of the shipped survey, by value and item number (``<value>.<NN>``). They were
# drawn once, when the file was written, and frozen: an item must never move between splits.
FROZEN_HELDOUT: dict[str, tuple[int, ...]] = {
    "self_direction_thought": (1, 2, 4, 8, 10, 14),
    "self_direction_action": (3, 8, 11, 12, 13, 14),
    "stimulation": (1, 5, 10, 12, 15, 16),
    "hedonism": (1, 2, 5, 8, 11, 13),
    "achievement": (1, 2, 11, 12, 14, 15),
    "power_dominance": (1, 2, 6, 7, 9, 13),
    "power_resources": (3, 4, 5, 6, 11, 13),
    "face": (1, 7, 9, 10, 11, 12),
    "security_personal": (6, 8, 9, 11, 15, 16),
    "security_societal": (4, 8, 9, 11, 12, 15),
    "tradition": (3, 6, 7, 8, 13, 15),
    "conformity_rules": (3, 5, 7, 11, 13, 14),
    "conformity_interpersonal": (1, 2, 10, 11, 12, 13),
    "humility": (8, 10, 11, 12, 13, 15),
    "benevolence_caring": (7, 8, 9, 10, 13, 16),
    "benevolence_dependability": (3, 4, 5, 7, 10, 15),
    "universalism_concern": (1, 5, 6, 12, 14, 16),
    "universalism_nature": (5, 7, 12, 13, 14, 15),
    "universalism_tolerance": (2, 3, 9, 11, 12, 13),
    "universalism_objectivity": (2, 3, 4, 7, 10, 12),
}

# Words shared by most statements: left out when comparing held-out and training texts for
# near-duplicates, so that two items are "near" only if their content is.
FRAME_WORDS = set(
    "this person it is important to matters for the a an of and their they them be in that on "
    "with as by or not".split()
)


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey()


# --- the shipped survey ------------------------------------------------------------------------


def test_shipped_survey_covers_every_value(survey: Survey) -> None:
    counts = survey.counts()
    assert survey.values == VALUE_IDS
    for value in VALUE_IDS:
        assert counts[value]["train"] + counts[value]["heldout"] >= 12, value
        assert counts[value]["heldout"] >= 4, value
        assert counts[value]["train"] >= 8, value  # enough to train on (issue 9 used 8 a value)
    assert len(survey.items) >= 240


def test_every_line_of_the_shipped_file_is_an_item(survey: Survey) -> None:
    lines = [
        ln for ln in default_items_path().read_text(encoding="utf-8").splitlines() if ln.strip()
    ]
    assert len(survey.items) == len(lines)
    assert [item.id for item in survey.items] == [json.loads(ln)["id"] for ln in lines]


def test_shipped_statements_are_portraits_and_gender_neutral(survey: Survey) -> None:
    gendered = re.compile(r"\b(he|she|his|her|hers|him|himself|herself|man|woman)\b", re.I)
    for item in survey.items:
        assert "this person" in item.text.lower(), item.id
        assert not gendered.search(item.text), item.id
        assert item.text[0].isupper() and item.text.endswith("."), item.id
        assert item.id.startswith(item.value + "."), item.id


def test_split_is_frozen(survey: Survey) -> None:
    for item in survey.items:
        value, number = item.id.rsplit(".", 1)
        expected = "heldout" if int(number) in FROZEN_HELDOUT[value] else "train"
        assert item.split == expected, f"{item.id} moved from {expected} to {item.split}"
    heldout = {item.id for item in survey.select("heldout")}
    assert heldout == {f"{v}.{n:02d}" for v, ns in FROZEN_HELDOUT.items() for n in ns}


def _content(text: str) -> list[str]:
    return [w for w in normalize_text(text).split() if w not in FRAME_WORDS]


def _near_duplicates(a: str, b: str) -> bool:
    """Whether two statements say nearly the same: shared content words or long common runs."""
    wa, wb = _content(a), _content(b)
    jaccard = len(set(wa) & set(wb)) / len(set(wa) | set(wb))
    ratio = difflib.SequenceMatcher(None, " ".join(wa), " ".join(wb)).ratio()
    return jaccard >= 0.6 or ratio >= 0.8


def test_no_heldout_text_reaches_training_even_nearly(survey: Survey) -> None:
    train = survey.select("train")
    heldout = survey.select("heldout")
    assert len(train) + len(heldout) == len(survey.items)
    assert {normalize_text(i.text) for i in heldout}.isdisjoint(
        normalize_text(i.text) for i in train
    )
    for h in heldout:
        for t in train:
            assert not _near_duplicates(h.text, t.text), (h.id, t.id)
    # The check can fail: a held-out text reworded slightly is flagged.
    text = survey.item("hedonism.01").text
    assert _near_duplicates(text, text.replace("likes to treat", "loves treating"))
    assert _near_duplicates(text, "It is important to this person " + text[len("This person ") :])


def test_shipped_phrasings_render_statement_and_scale(survey: Survey) -> None:
    assert len(survey.phrasings) >= 3
    assert len({p.id for p in survey.phrasings}) == len(survey.phrasings)
    item = survey.item("hedonism.03")
    for phrasing in survey.phrasings:
        messages = phrasing.messages(item)
        assert [m["role"] for m in messages] == (["system"] if phrasing.system else []) + ["user"]
        user = messages[-1]["content"]
        assert item.text in user
        text = "\n".join(m["content"] for m in messages)
        for digit, label in SCALE.items():
            assert re.search(rf"\b{digit}\b", text), (phrasing.id, digit)
            assert label in text, (phrasing.id, label)
        assert "{" not in text and "}" not in text
        assert phrasing.assistant_prefix, phrasing.id


# --- the API -----------------------------------------------------------------------------------


def test_select_and_item(survey: Survey) -> None:
    every = survey.select()
    assert every == survey.items
    train, heldout = survey.select("train"), survey.select("heldout")
    assert {i.split for i in train} == {"train"} and {i.split for i in heldout} == {"heldout"}
    assert set(train) | set(heldout) == set(every)
    some = survey.select("heldout", ["humility", "face"])
    assert {i.value for i in some} == {"humility", "face"} and len(some) == 12
    assert survey.select("train", "humility") == survey.select("train", ["humility"])
    assert survey.item("face.07").value == "face"
    with pytest.raises(KeyError, match=r"did you mean 'face\.07'"):
        survey.item("face.7")
    with pytest.raises(ValueError, match="unknown split 'test'"):
        survey.select("test")
    with pytest.raises(ValueError, match="unknown value id 'power'"):
        survey.select("all", ["power"])
    assert survey.phrasing(survey.phrasings[1].id) is survey.phrasings[1]
    with pytest.raises(KeyError, match="no phrasing"):
        survey.phrasing("nope")


def test_phrasing_messages_render_scale_placeholder() -> None:
    phrasing = Phrasing(
        id="t", system="Scale:\n{scale}", user="Rate: {statement} ({{1-6}})", assistant_prefix="A: "
    )
    item = SurveyItem(
        id="x.1", value="tradition", text="This person keeps old customs.", split="train"
    )
    messages = phrasing.messages(item)
    assert messages == [
        {"role": "system", "content": "Scale:\n" + format_scale()},
        {"role": "user", "content": "Rate: This person keeps old customs. ({1-6})"},
    ]
    assert "6 = very much like me" in messages[0]["content"]
    assert Phrasing(id="u", user="{statement}").messages("Plain text.") == [
        {"role": "user", "content": "Plain text."}
    ]
    with pytest.raises(TypeError, match="SurveyItem or str"):
        phrasing.messages(3)  # type: ignore[arg-type]


def test_dataclasses_validate() -> None:
    with pytest.raises(ValueError, match="unknown split 'test'"):
        SurveyItem(id="a", value="face", text="This person is careful.", split="test")
    with pytest.raises(ValueError, match="unknown value id"):
        SurveyItem(id="a", value="fame", text="This person is careful.", split="train")
    with pytest.raises(TypeError, match="must be a str, got int"):
        SurveyItem(id="a", value="face", text=5, split="train")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks the placeholder \{statement\}"):
        Phrasing(id="p", user="How like you?")
    with pytest.raises(ValueError, match=r"unknown placeholder \{statement\}"):
        Phrasing(id="p", user="{statement}", system="About {statement}")
    item = SurveyItem(id="a", value="face", text="This person is careful.", split="train")
    with pytest.raises(ValueError, match="duplicate item id 'a'"):
        Survey(items=(item, item), phrasings=())


# --- bad input: every problem is a DataError naming file, line and field -----------------------


def _valid_records() -> list[dict[str, str]]:
    """A minimal valid survey: every value with 4 held-out and 1 training item."""
    records = []
    for value in VALUE_IDS:
        for n in range(1, 6):
            split = "train" if n == 1 else "heldout"
            text = f"This person holds statement number {n} about {value.replace('_', ' ')}."
            records.append({"id": f"{value}.{n}", "value": value, "text": text, "split": split})
    return records


def _write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def _check(err: DataError, path: Path, line: int | None, field: str | None) -> None:
    assert err.path == path
    assert err.line == line
    assert err.field == field
    message = str(err)
    assert str(path) in message
    if line is not None:
        assert f"line {line}" in message
    if field is not None:
        assert repr(field) in message


def test_valid_minimal_file_loads_every_record(tmp_path: Path) -> None:
    records = _valid_records()
    lines: list[object] = []
    for r in records:
        lines += [r, ""]  # blank lines are allowed and skipped; records are not
    items = load_items(_write_jsonl(tmp_path / "items.jsonl", lines))
    assert [i.id for i in items] == [r["id"] for r in records]
    assert sum(i.split == "heldout" for i in items) == MIN_HELDOUT_PER_VALUE * len(VALUE_IDS)


def _mutate(kind: str, records: list[dict]) -> tuple[list[object], int | None, str | None, str]:
    """Spoil a valid record list; return the lines, and the expected line, field and message part."""
    lines: list[object] = list(records)
    k = 6  # the 7th record sits on line 7
    if kind == "invalid json":
        lines[k] = '{"id": "x", "value": '
        return lines, 7, None, "invalid JSON"
    if kind == "not an object":
        lines[k] = ["a", "b"]
        return lines, 7, None, "expected a JSON object, got a list"
    if kind == "missing field":
        del lines[k]["text"]
        return lines, 7, "text", "missing"
    if kind == "wrong type":
        lines[k]["split"] = 3
        return lines, 7, "split", "expected a string, got a number"
    if kind == "unknown value id":
        lines[k]["value"] = "benevolence_care"
        return lines, 7, "value", "did you mean 'benevolence_caring'"
    if kind == "unknown split":
        lines[k]["split"] = "test"
        return lines, 7, "split", "unknown split 'test'"
    if kind == "unknown field":
        lines[k]["splt"] = "train"
        return lines, 7, "splt", "unknown field 'splt'"
    if kind == "bad id":
        lines[k]["id"] = "has space"
        return lines, 7, "id", "expected an id"
    if kind == "empty text":
        lines[k]["text"] = "   "
        return lines, 7, "text", "empty statement"
    if kind == "duplicate id":
        lines[k]["id"] = records[2]["id"]
        return lines, 7, "id", f"duplicate id {records[2]['id']!r}, first used on line 3"
    if kind == "duplicate text":
        lines[k]["text"] = records[2]["text"].upper().replace(" ", "  ").rstrip(".") + "!"
        return lines, 7, "text", "line 3"
    if kind == "too few heldout":
        for r in lines[21:23]:  # two held-out items of the fifth value become training items
            r["split"] = "train"
        return lines, None, "split", f"value {VALUE_IDS[4]!r} has 2 held-out items"
    if kind == "value without items":
        lines = [r for r in lines if r["value"] != "humility"]
        return lines, None, "split", "value 'humility' has 0 held-out items"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "invalid json",
        "not an object",
        "missing field",
        "wrong type",
        "unknown value id",
        "unknown split",
        "unknown field",
        "bad id",
        "empty text",
        "duplicate id",
        "duplicate text",
        "too few heldout",
        "value without items",
    ],
)
def test_bad_items_file(tmp_path: Path, kind: str) -> None:
    lines, line, field, part = _mutate(kind, _valid_records())
    path = _write_jsonl(tmp_path / "items.jsonl", lines)
    with pytest.raises(DataError) as info:
        load_items(path)
    _check(info.value, path, line, field)
    assert part in str(info.value)
    with pytest.raises(DataError):  # load_survey reports the same problem
        load_survey(items_path=path)


def test_bad_items_files_of_other_kinds(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match="no such file") as info:
        load_items(missing)
    _check(info.value, missing, None, None)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no items"):
        load_items(empty)
    txt = tmp_path / "items.txt"
    txt.write_text("x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"expected a \.jsonl or \.csv"):
        load_items(txt)
    binary = tmp_path / "latin.jsonl"
    binary.write_bytes(b'{"id": "a"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(DataError, match="expected UTF-8 text, got byte 0x") as info:
        load_items(binary)
    _check(info.value, binary, 2, None)


def test_csv_items(tmp_path: Path) -> None:
    records = _valid_records()
    rows = ["id,value,text,split"] + [
        f'{r["id"]},{r["value"]},"{r["text"]}",{r["split"]}' for r in records
    ]
    good = tmp_path / "items.csv"
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert load_items(good) == load_items(_write_jsonl(tmp_path / "items.jsonl", records))
    rows[9] = rows[9].replace(",train", ",training").replace(",heldout", ",training")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown split 'training'") as info:
        load_items(bad)
    _check(info.value, bad, 10, "split")
    header = tmp_path / "header.csv"
    header.write_text("id,value,text\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column") as info:
        load_items(header)
    _check(info.value, header, 1, "split")


def _phrasings_text(**changes: object) -> str:
    """A phrasings file of two phrasings; ``changes`` set keys of the second (None deletes)."""
    first = {"id": "one", "user": "Rate: {statement}\n{scale}", "assistant_prefix": "Answer: "}
    second: dict[str, object] = {"id": "two", "system": "Scale: {scale}", "user": "{statement}?"}
    for key, value in changes.items():
        if value is None:
            second.pop(key, None)
        else:
            second[key] = value
    return json.dumps({"phrasings": [first, second]}, indent=2) + "\n"


@pytest.mark.parametrize(
    ("changes", "key", "part"),
    [
        ({"user": "How like you is this?"}, "user", "lacks the placeholder {statement}"),
        ({"user": "{statement} {name}"}, "user", "unknown placeholder {name}"),
        ({"user": "{statement} {"}, "user", "malformed template"),
        ({"system": "About {statement}"}, "system", "unknown placeholder {statement}"),
        ({"system": 7}, "system", "expected a string or null, got a number"),
        ({"assistant_prefix": ["A:"]}, "assistant_prefix", "expected a string, got a list"),
        ({"id": "one"}, "id", "duplicate id 'one', first used by phrasings[0]"),
        ({"id": "two words"}, "id", "expected an id"),
        ({"prefix": "Answer: "}, "prefix", "unknown key 'prefix'"),
        ({"user": None}, "user", "missing"),
    ],
)
def test_bad_phrasing(tmp_path: Path, changes: dict, key: str, part: str) -> None:
    text = _phrasings_text(**changes)
    path = tmp_path / "phrasings.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_phrasings(path)
    lines = text.splitlines()
    second = [i for i, ln in enumerate(lines) if ln == "    {"][1]  # where phrasings[1] opens
    key_lines = [
        i for i, ln in enumerate(lines) if i > second and ln.strip().startswith(f'"{key}"')
    ]
    # The error points at the key's line, or at the phrasing's first line when the key is missing.
    expected_line = (key_lines[0] if key_lines else second) + 1
    _check(info.value, path, expected_line, f"phrasings[1].{key}")
    assert part in str(info.value)


def test_bad_phrasings_file(tmp_path: Path) -> None:
    path = tmp_path / "phrasings.json"
    path.write_text('{\n  "phrasings": [\n    {"id": "a",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON") as info:
        load_phrasings(path)
    _check(info.value, path, 3, None)
    for text, field, part in [
        ("[]", None, "expected a JSON object"),
        ("{}", "phrasings", "missing the list"),
        ('{"phrasings": []}', "phrasings", "at least one phrasing"),
        ('{"phrasings": {"id": "a"}}', "phrasings", "expected a list, got an object"),
        ('{"phrasings": [], "extra": 1}', "extra", "unknown key 'extra'"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DataError) as info:
            load_phrasings(path)
        _check(info.value, path, None, field)
        assert part in str(info.value)
    good = tmp_path / "good.json"
    good.write_text(_phrasings_text(), encoding="utf-8")
    phrasings = load_phrasings(good)
    assert [p.id for p in phrasings] == ["one", "two"]
    assert phrasings[0].assistant_prefix == "Answer: " and phrasings[1].system == "Scale: {scale}"
    survey = load_survey(phrasings_path=good)
    assert survey.phrasings == phrasings and len(survey.items) == len(load_survey().items)
