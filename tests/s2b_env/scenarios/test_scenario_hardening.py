"""No silent wrong values in the scenario envs and importers: issue 22, item 3."""

from __future__ import annotations

import re

import pytest

from agents.walkthrough import read_walkthrough
from s2b_env.errors import DataError
from s2b_env.scenarios.env import (
    MAX_ACTION_CHARS,
    MAX_OBSERVATION_CHARS,
    MoralScenarioEnv,
    match_option,
)
from s2b_env.scenarios.importers import import_aita_csv

LABELS = ["Call her back tonight", "Send a text instead", "Ignore it"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("-1", "no option -1"),
        ("1.5", "'1.5' is not a whole option number"),
        ("option 2.5", "'2.5' is not a whole option number"),
        ("1 2", "names several numbers"),
        ("1, 2", "names several numbers"),
        ("1 or 2", "names several numbers"),
        ("0", "no option 0"),
        ("4", "no option 4"),
    ],
)
def test_dilemma_answers_that_name_no_single_option_are_refused(answer: str, message: str) -> None:
    index, error = match_option(answer, LABELS)
    assert index is None and message in error and "expected a number 1-3" in error


@pytest.mark.parametrize(
    ("answer", "index"),
    [("2", 1), ("2.", 1), ("#3", 2), ("Option 3.", 2), ("2. Send a text instead", 1), ("1)", 0)],
)
def test_plain_numbered_answers_still_choose(answer: str, index: int) -> None:
    assert match_option(answer, LABELS) == (index, None)


def test_dilemma_env_refuses_minus_one_without_moving() -> None:
    env = MoralScenarioEnv(kind="dilemma")
    item = env.items[0]
    _, info0 = env.reset(options={"item_id": item.id})
    for answer in ("-1", "1.5", "1 2"):
        _, reward, terminated, _, info = env.step(answer)
        assert info["choice"] is None and info["error"] and not terminated and reward == 0.0
        assert info["node"] == info0["node"] and info["value_totals"] == info0["value_totals"]


@pytest.mark.parametrize("kind", ["judgment", "dilemma"])
def test_unknown_reset_options_are_refused_and_change_nothing(kind: str) -> None:
    env = MoralScenarioEnv(kind=kind, render_mode="ansi")
    obs, info = env.reset(seed=3)
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['itemid'\].*item_id"):
        env.reset(options={"itemid": env.items[1].id})
    assert env.render() == obs  # the episode is as it was
    _, reward, terminated, _, after = env.step("1")
    assert after["item_id"] == info["item_id"]


def test_overlong_action_and_observation_are_reported_in_info(tmp_path) -> None:
    text = "word " * ((MAX_OBSERVATION_CHARS // 5) + 100)
    path = tmp_path / "long.jsonl"
    path.write_text(
        '{"schema_version": 1, "kind": "judgment", "id": "l1", "title": "Long", "text": "'
        + text
        + '"}\n',
        encoding="utf-8",
    )
    env = MoralScenarioEnv(kind="judgment", scenarios_path=path)
    obs, info = env.reset(seed=0)
    assert len(obs) == MAX_OBSERVATION_CHARS and obs.endswith("observation limit]")
    (warning,) = info["warnings"]
    size = re.fullmatch(r"observation was (\d+) characters; cut to 20000", warning)
    assert size and int(size.group(1)) > len(text.strip()) > MAX_OBSERVATION_CHARS
    _, _, _, _, info = env.step("NTA" + " " * MAX_ACTION_CHARS)
    assert info["verdict"] == "NTA"
    assert info["warnings"] == [
        f"action was {MAX_ACTION_CHARS + 3} characters; read the first {MAX_ACTION_CHARS}"
    ]
    env.reset(seed=0)
    _, _, _, _, info = env.step("NTA")
    assert info["warnings"] == []


def test_fractional_votes_are_refused_not_rounded(tmp_path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(
        "id,title,body,verdict,yta,nta\np1,t,b,NTA,1.5,3\np2,t,b,NTA,2.0,2\np3,t,b,NTA,x,1\n",
        encoding="utf-8",
    )
    result = import_aita_csv(path)
    assert [r.ok for r in result.rows] == [False, True, False]
    assert "expected a whole vote count, got 1.5" in str(result.rows[0].error)
    assert result.rows[0].error.field == "yta" and result.rows[0].error.line == 2
    assert result.records[0]["votes"] == {"YTA": 2, "NTA": 2, "ESH": 0, "NAH": 0}


def test_walkthrough_file_that_is_not_utf8_is_an_error(tmp_path) -> None:
    path = tmp_path / "walk.txt"
    path.write_bytes(b"open mailbox\nnorth\ntake caf\xe9\n")
    with pytest.raises(DataError, match=r"walk\.txt, line 3: expected UTF-8 text, got byte 0xe9"):
        read_walkthrough(path)
    path.write_bytes(b"\xef\xbb\xbfopen mailbox\nnorth\n")  # a byte-order mark is harmless
    assert read_walkthrough(path) == ["open mailbox", "north"]
