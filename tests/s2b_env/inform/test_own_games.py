"""The own games' data formats: annotations, markers and walkthroughs, good and bad."""

from __future__ import annotations

import pytest

from s2b_env.errors import DataError
from s2b_env.inform import build as ib
from s2b_env.inform.data import (
    check_markers,
    load_annotations,
    load_walkthrough,
    source_markers,
    split_markers,
)
from s2b_env.values import ValueVector

HEADER = "# a comment line\nevent,effects,description\n"


def write(tmp_path, text, name="g_annotations.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_annotations_load_and_match_their_sources():
    for game in ib.own_game_names():
        path = ib.annotations_file(game)
        events = load_annotations(path)
        check_markers(ib.source_file(game), path, events)
        for event in events.values():
            assert event.effects and event.description.endswith(".")
            assert all(-3 <= x <= 3 for x in event.effects.values())


def test_good_file_parses(tmp_path):
    path = write(
        tmp_path,
        HEADER + 'kept_cash,power_resources=+2 universalism_concern=-1,"Kept it, all of it."\n',
    )
    events = load_annotations(path)
    assert list(events) == ["kept_cash"]
    event = events["kept_cash"]
    assert event.effects == ValueVector(power_resources=2, universalism_concern=-1)
    assert event.description == "Kept it, all of it." and event.line == 3


def test_unknown_value_id_names_file_line_and_field(tmp_path):
    path = write(
        tmp_path,
        HEADER + "a,hedonism=+1,First.\nb,kindness=+2 hedonism=-1,Second.\n",
    )
    with pytest.raises(DataError) as err:
        load_annotations(path)
    assert (err.value.path, err.value.line, err.value.field) == (path, 4, "effects")
    assert "unknown value id 'kindness'" in str(err.value)
    assert "benevolence_caring" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("effect", ["hedonism=+4", "hedonism=-5", "hedonism=1.5", "hedonism=0"])
def test_out_of_range_effect(tmp_path, effect):
    path = write(tmp_path, HEADER + f"a,{effect},First.\n")
    with pytest.raises(DataError) as err:
        load_annotations(path)
    assert (err.value.line, err.value.field) == (3, "effects")
    assert "'hedonism'" in str(err.value)


def test_duplicate_event_id(tmp_path):
    path = write(tmp_path, HEADER + "a,hedonism=+1,First.\n\nb,face=+1,B.\na,face=-1,Again.\n")
    with pytest.raises(DataError) as err:
        load_annotations(path)
    assert (err.value.line, err.value.field) == (6, "event")
    assert "duplicate event id 'a' (first defined on line 3)" in str(err.value)


def test_marker_in_source_without_annotation(tmp_path):
    ann = write(tmp_path, HEADER + "a,hedonism=+1,First.\n")
    source = tmp_path / "g.inf"
    source.write_text(
        '[ One; "You eat.^[V: a]"; ];\n'
        "! a comment: [V: ignored] is not a marker\n"
        '[ Two; print "You laugh.^[V: b]^"; ];\n'
    )
    with pytest.raises(DataError) as err:
        check_markers(source, ann, load_annotations(ann))
    assert (err.value.path, err.value.line, err.value.field) == (source, 3, "marker")
    assert "marker [V: b] has no annotation" in str(err.value)


def test_annotation_without_marker(tmp_path):
    ann = write(tmp_path, HEADER + "a,hedonism=+1,First.\nb,face=+1,Second.\n")
    source = tmp_path / "g.inf"
    source.write_text('[ One; "You eat.^[V: a]"; ];\n')
    with pytest.raises(DataError) as err:
        check_markers(source, ann, load_annotations(ann))
    assert (err.value.path, err.value.line, err.value.field) == (ann, 4, "event")


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ("event,effects\n", 1, "description"),
        ("event,effects,description\nBad-Id,face=+1,X.\n", 2, "event"),
        ("event,effects,description\na,,X.\n", 2, "effects"),
        ("event,effects,description\na,face+1,X.\n", 2, "effects"),
        ("event,effects,description\na,face=+1 face=-1,X.\n", 2, "effects"),
        ("event,effects,description\na,face=+1,\n", 2, "description"),
        ("event,effects,description\na,face=+1,X, Y.\n", 2, None),
    ],
)
def test_other_bad_records(tmp_path, body, line, field):
    with pytest.raises(DataError) as err:
        load_annotations(write(tmp_path, body))
    assert (err.value.line, err.value.field) == (line, field)


def test_malformed_marker_in_source(tmp_path):
    source = tmp_path / "g.inf"
    source.write_text('[ One; "Hi.^[V: Not An Id]"; ];\n')
    with pytest.raises(DataError) as err:
        source_markers(source)
    assert (err.value.line, err.value.field) == (1, "marker")


def test_split_markers():
    text = "You take it.\n[V: kept_cash]\n\nThe bell [V: rung] tolls.\n[V: a]\n[V: b]\n>"
    clean, ids = split_markers(text)
    assert ids == ["kept_cash", "rung", "a", "b"]
    assert clean == "You take it.\n\nThe bell  tolls.\n>"
    assert split_markers("plain") == ("plain", [])


def test_walkthrough_format(tmp_path):
    path = tmp_path / "caring.txt"
    path.write_text(
        "# caring: a comment\n# score: 4\n# outcome: victory\n"
        "# higher than self_interested: benevolence_caring, humility\n"
        "# lower than self_interested: face\n\n"
        "n\ngive wallet to woman   [V: returned] [V: thanked]\n  look  \n"
    )
    walk = load_walkthrough(path)
    assert walk.route == "caring" and walk.score == 4 and walk.outcome == "victory"
    assert walk.commands == ("n", "give wallet to woman", "look")
    assert walk.events == ((), ("returned", "thanked"), ())
    assert walk.higher_than == {"self_interested": ("benevolence_caring", "humility")}
    assert walk.lower_than == {"self_interested": ("face",)}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("# score: many", "score"),
        ("# outcome: draw", "outcome"),
        ("# higher than other: kindness", "higher than"),
        ("# lower than: face", "lower than"),
        ("[V: a]", "command"),
    ],
)
def test_bad_walkthrough_lines(tmp_path, line, field):
    path = tmp_path / "r.txt"
    path.write_text(f"n\n{line}\n")
    with pytest.raises(DataError) as err:
        load_walkthrough(path)
    assert (err.value.line, err.value.field) == (2, field)


@pytest.mark.parametrize(
    ("reader", "name"),
    [
        (load_annotations, "annotations.csv"),
        (source_markers, "g.inf"),
        (load_walkthrough, "caring.txt"),
    ],
)
def test_a_file_that_is_not_utf8_names_file_and_line(tmp_path, reader, name):
    game = ib.own_game_names()[0]
    real = {
        "annotations.csv": ib.annotations_file(game),
        "g.inf": ib.source_file(game),
        "caring.txt": ib.walkthrough_files(game)["caring"],
    }[name]
    lines = real.read_bytes().split(b"\n")
    lines[1] = b"\xff" + lines[1]  # a byte no UTF-8 text holds, on line 2
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"expected UTF-8 text, got byte 0xff") as err:
        reader(path)
    assert err.value.path == path and err.value.line == 2
