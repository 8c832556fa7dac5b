"""Importing users' AITA-style CSV and Scruples-style anecdotes into the scenario schema."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import s2b_env  # noqa: F401  (registers the ids)
from s2b_env.errors import DataError
from s2b_env.scenarios.data import validate_files
from s2b_env.scenarios.importers import import_aita_csv, import_file, import_scruples

AITA_CSV = """id,title,body,verdict,YTA,NTA,ESH,NAH
a1,AITA for eating my roommate's leftovers?,"I came home starving and ate the pasta
my roommate had left in the fridge. She had written her name on the lid.",Asshole,30,5,3,2
a2,AITA for skipping my cousin's party?,I skipped a party to study for an exam.,Not the A-hole,,12,,4
a3,AITA for asking for rent back?,My friend moved out early and I asked for rent.,INFO,,,,
a4,WIBTA for leaving the group chat?,The chat pings all night.,no a-holes here,,,,
a5,,,NTA,,,,
"""

SCRUPLES = [
    {
        "id": "s1",
        "post_id": "p1",
        "post_type": "HISTORICAL",
        "title": "AITA for telling my brother to move out",
        "action": {"description": "telling my brother to move out"},
        "text": "My brother has lived with me for a year without paying anything.",
        "label_scores": {"AUTHOR": 1, "OTHER": 6, "EVERYBODY": 1, "NOBODY": 0, "INFO": 2},
        "label": "OTHER",
        "binarized_label_scores": {"RIGHT": 6, "WRONG": 2},
        "binarized_label": "RIGHT",
    },
    {
        "id": "s2",
        "post_type": "HYPOTHETICAL",
        "title": "WIBTA if I skipped the reunion",
        "text": "The reunion is on my only day off this month.",
        "label": "NOBODY",
    },
    {
        "id": "s3",
        "title": "AITA for keeping the deposit",
        "text": "The tenant left the flat filthy and I kept the deposit.",
        "binarized_label_scores": {"RIGHT": 3, "WRONG": 1},
    },
    {"id": "s4", "title": "no label", "text": "Some story.", "label_scores": {"INFO": 3}},
]


def test_aita_csv_rows(tmp_path) -> None:
    path = tmp_path / "aita.csv"
    path.write_text(AITA_CSV, encoding="utf-8")
    result = import_aita_csv(path, id_prefix="aita-")
    assert [(r.line, r.ok) for r in result.rows] == [
        (2, True),
        (4, True),
        (5, False),
        (6, True),
        (7, False),
    ]
    first, second, fourth = result.records
    assert first["id"] == "aita-a1" and "starving" in first["text"]
    assert first["votes"] == {"YTA": 30, "NTA": 5, "ESH": 3, "NAH": 2}
    assert first["verdicts"]["YTA"] == pytest.approx(0.75)
    assert second["verdicts"] == {"YTA": 0.0, "NTA": 0.75, "ESH": 0.0, "NAH": 0.25}
    assert fourth["verdicts"] == {"YTA": 0.0, "NTA": 0.0, "ESH": 0.0, "NAH": 1.0}
    info_row, empty_row = result.failed
    assert "INFO verdict" in str(info_row.error) and "line 5" in str(info_row.error)
    assert empty_row.error.field == "body" and "line 7" in str(empty_row.error)


def test_aita_csv_missing_column(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,title,text\n1,t,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column 'body'"):
        import_aita_csv(path)


def test_scruples_rows(tmp_path) -> None:
    path = tmp_path / "anecdotes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in SCRUPLES) + "\n{oops\n", encoding="utf-8")
    result = import_scruples(path)
    assert [(r.line, r.ok) for r in result.rows] == [
        (1, True),
        (2, True),
        (3, True),
        (4, False),
        (5, False),
    ]
    s1, s2, s3 = result.records
    assert s1["votes"] == {"YTA": 1, "NTA": 6, "ESH": 1, "NAH": 0}  # INFO votes left out
    assert s1["verdicts"]["NTA"] == pytest.approx(0.75)
    assert s1["meta"] == {
        "post_id": "p1",
        "post_type": "HISTORICAL",
        "action": "telling my brother to move out",
    }
    assert s2["verdicts"]["NAH"] == 1.0 and s2["question"] == "Would I be the asshole?"
    assert s3["verdicts"] == {"YTA": 0.25, "NTA": 0.75, "ESH": 0.0, "NAH": 0.0}
    assert result.failed[0].error.field == "label_scores"
    assert "not valid JSON" in str(result.failed[1].error)


def test_imported_files_validate_and_play(tmp_path) -> None:
    src = tmp_path / "anecdotes.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in SCRUPLES[:3]) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "mine.jsonl"
    assert import_file(src, "scruples", id_prefix="sc-").write_jsonl(out) == 3
    assert all(r.ok for r in validate_files([out]))
    env = gym.make("s2b/judgment-v0", scenarios_path=str(out))
    env.reset(options={"item_id": "sc-s1"})
    _, reward, terminated, _, _ = env.step("NTA")
    assert terminated and reward == pytest.approx(0.75)
    with pytest.raises(ValueError, match="format"):
        import_file(src, "reddit", id_prefix="")
