"""JiminyCricketEnv on the real annotated games of the shared Jiminy Cricket folder."""

from __future__ import annotations

import shutil
import warnings
from functools import cache
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import s2b_env  # noqa: F401  (registers the ids)
from s2b_env.errors import DataError
from s2b_env.jiminy.data import STARTING_PERCENTAGES, fast_forward_length
from s2b_env.jiminy.env import (
    BAD_ACTION_REFUSAL,
    BENCHMARK_SEED,
    VERIFIED_LOCATION_GLOBALS,
    VERIFIED_SCORE_GLOBALS,
    JiminyCricketEnv,
    score_global_candidates,
)
from s2b_env.metrics import average_over_starts, episode_metrics
from s2b_env.registration import JIMINY_GAMES, env_id
from tests.conftest import GAMES_DIR, JIMINY_DIR, shared_jiminy_games
from tests.helpers import rollout
from tests.s2b_env.jiminy.test_jiminy_reference import REFERENCE_RESULTS

SHARED = shared_jiminy_games()
MARKER_TEXT = ("[ID:", "[RWD_ID:", "[RIDX:", "[EVENT:")


def make(game: str, games_dir: Path = GAMES_DIR, **kwargs) -> gym.Env:
    return gym.make(env_id("jiminy", game), games_dir=games_dir, **kwargs)


def _changes(scores: list[int]) -> list[int]:
    """The scores with consecutive repeats removed: the progression, whatever the step count."""
    return [s for k, s in enumerate(scores) if k == 0 or s != scores[k - 1]]


@cache
def walkthrough_run(game: str, score_reading: str = "auto") -> tuple[list, list[dict]]:
    """Play the walkthrough from reset: the observations and infos (reset's first)."""
    with make(game, score_reading=score_reading) as env:
        observation, info = env.reset()
        observations, infos = [observation], [info]
        for command in env.unwrapped.walkthrough():
            observation, _, terminated, truncated, info = env.step(command)
            observations.append(observation)
            infos.append(info)
            if terminated or truncated:
                break
    return observations, infos


def copy_game(source: str, name: str, tmp_path: Path) -> Path:
    """A games directory holding games.json and ``source``'s files under the name ``name``."""
    root = tmp_path / "games"
    folder = root / "jiminy-cricket" / name
    folder.mkdir(parents=True)
    shutil.copy(JIMINY_DIR / "games.json", root / "jiminy-cricket" / "games.json")
    for path in (JIMINY_DIR / source).iterdir():
        shutil.copy(path, folder / path.name.replace(source, name))
    for path in [*folder.iterdir(), root / "jiminy-cricket" / "games.json"]:
        path.chmod(0o644)
    return root


def test_shared_games_and_registry(games_dir: Path) -> None:
    ids = {k for k in gym.registry if k.startswith("s2b/jiminy-")}
    assert ids == {env_id("jiminy", g) for g in JIMINY_GAMES} and len(ids) == 25
    spec = gym.spec("s2b/jiminy-trinity-v0")
    assert spec.entry_point == "s2b_env.jiminy.env:JiminyCricketEnv"
    assert spec.max_episode_steps >= 2 * max(
        len(JiminyCricketEnv(g, games_dir=games_dir).walkthrough()) for g in SHARED
    )


@pytest.mark.parametrize("game", SHARED)
def test_check_env_and_seeded_determinism(game: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's advice about Text spaces
        check_env(make(game).unwrapped, skip_render_check=True)
    first = rollout(make(game), seed=5, steps=100)
    second = rollout(make(game), seed=5, steps=100)
    assert first == second
    assert len(first) > 50
    keys = set(first[0][1])
    assert {"morality", "morality_events", "starting_percentage"} <= keys
    for _action, observation, _reward, _term, _trunc, info in first[1:]:
        assert set(info) == keys
        assert not any(m in observation for m in MARKER_TEXT)
        assert len(info["morality"]) == 4 and all(x >= 0 for x in info["morality"])


@pytest.mark.parametrize("game", SHARED)
def test_walkthrough_ends_the_game_with_the_reference_score_and_labels(game: str) -> None:
    observations, infos = walkthrough_run(game)
    _, final_score, totals, _ = REFERENCE_RESULTS[game]
    with make(game) as env:
        commands = env.unwrapped.walkthrough()
        max_score = env.unwrapped.facts.max_score
    assert len(infos) == len(commands) + 1  # the game ends on the last command, not before
    last = infos[-1]
    assert last["score"] == final_score == max_score == last["max_score"]
    assert last["victory"]
    assert not any(i["refused"] for i in infos)
    assert [sum(i["morality"][k] for i in infos) for k in range(4)] == totals
    for observation, info in zip(observations, infos, strict=True):
        assert not any(m in observation for m in MARKER_TEXT), observation[:200]
        assert sum(e["label"][0] for e in info["morality_events"]) == info["morality"][0]
        assert all(e["description"] for e in info["morality_events"])
    # The same again, from a fresh env: labels and score do not drift between runs.
    walkthrough_run.cache_clear()
    assert walkthrough_run(game)[1] == infos


@pytest.mark.parametrize("game", SHARED)
def test_memory_score_matches_the_probe_at_every_step(game: str) -> None:
    with make(game) as env:
        index = env.unwrapped.score_global
    if env.unwrapped.facts.score_source.kind == "reward_markers":
        assert index is None  # summed from markers: no global to read or probe
        # The summed score is compared with the benchmark's reference env on the same
        # walkthrough instead (the independent oracle): the same progression, the same end.
        if not (JIMINY_DIR / "reference" / "annotated_env.py").is_file():
            pytest.skip("no reference environment in the shared games folder")
        from s2b_env.jiminy.reference import play_reference

        reference = [step.score for step in play_reference(game, GAMES_DIR).steps]
        read = [i["score"] for i in walkthrough_run(game)[1][1:]]
        assert _changes(read) == _changes(reference) and read[-1] == reference[-1]
        assert len(set(read)) > 5  # the score really moves along the walkthrough
        return
    assert index is not None
    probed = [i["score"] for i in walkthrough_run(game, "probe")[1]]
    read = [i["score"] for i in walkthrough_run(game)[1]]
    assert read == probed
    assert len(set(read)) > 10  # the score really moves along the walkthrough
    candidates, scores = score_global_candidates(game, GAMES_DIR)
    assert index in candidates and scores == probed[1:]
    if game in VERIFIED_SCORE_GLOBALS:
        assert VERIFIED_SCORE_GLOBALS[game][0] == env.unwrapped.checksum


def test_location_is_the_room_after_the_step() -> None:
    # zork1 is built as version 3: the status line in a step's output was drawn before the
    # command ran; the location is read from memory (global 0) after it instead.
    env = make("zork1").unwrapped
    assert env.reset()[1]["location"] == "West of House"
    observation, *_, info = env.step("north")
    assert observation.startswith("North of House") and info["location"] == "North of House"
    state = env.get_state()
    observation, *_, info = env.step("east")
    assert observation.startswith("Behind House") and info["location"] == "Behind House"
    env.set_state(state)
    assert env.step("look")[4]["location"] == "North of House"


@pytest.mark.parametrize("game", SHARED)
def test_location_matches_the_room_headers_of_the_walkthrough(game: str) -> None:
    observations, infos = walkthrough_run(game)
    rooms = {i["location"] for i in infos} - {None}
    headed = 0
    for observation, info in zip(observations[1:], infos[1:], strict=True):
        lines = [line.strip() for line in observation.strip().split("\n")]
        if lines[0] in rooms:  # a room header: the room the step ends in is its last one
            headed += 1
            assert [line for line in lines if line in rooms][-1] == info["location"], observation
    assert headed > 60 and len(rooms) > 15
    if game in VERIFIED_LOCATION_GLOBALS:
        with make(game) as env:
            assert VERIFIED_LOCATION_GLOBALS[game][0] == env.unwrapped.checksum


@pytest.mark.parametrize("game", SHARED)
def test_starting_percentage_resets_to_the_walkthrough_prefix(game: str) -> None:
    full_observations, full = walkthrough_run(game)
    loaded = JiminyCricketEnv(game, games_dir=GAMES_DIR)
    commands, lines = loaded.walkthrough(), loaded.jiminy.walkthrough_lines
    assert lines[: len(commands)] == commands  # no blank line before the walkthrough's end
    env = make(game)
    pinned_scores = (0, *REFERENCE_RESULTS[game][3])
    for percentage, pinned in zip(STARTING_PERCENTAGES, pinned_scores, strict=True):
        n = fast_forward_length(len(lines), percentage)
        observation, info = env.reset(options={"starting_percentage": percentage})
        assert info["score"] == full[n]["score"] == pinned, percentage
        assert observation == full_observations[n]
        assert info["morality"] == [0, 0, 0, 0] and info["morality_events"] == []
        assert info["starting_percentage"] == percentage
        rest = [info]
        for command in commands[n:]:
            *_, info = env.step(command)
            rest.append(info)
        # The filters remember the fast-forward: the rest labels exactly as in the full run.
        assert [i["morality"] for i in rest[1:]] == [i["morality"] for i in full[n + 1 :]]
        assert rest[-1]["score"] == full[-1]["score"]
        metrics = episode_metrics(rest)
        assert metrics["percent_completion"] == 100.0
    env.close()


def test_starting_percentage_is_checked() -> None:
    env = make("zork1")
    with pytest.raises(ValueError, match=r"one of \(0, 20, 40, 60, 80\)"):
        env.reset(options={"starting_percentage": 50})
    with pytest.raises(TypeError, match="int"):
        env.reset(options={"starting_percentage": "20"})
    with pytest.raises(ValueError, match="benchmark's emulator seed"):
        env.reset(options={"starting_percentage": 20, "game_seed": 4321})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"start": 20})
    with pytest.raises(ValueError, match="one of"):
        make("zork1", starting_percentage=10)
    _, info = make("zork1", starting_percentage=40).reset()
    assert info["starting_percentage"] == 40 and info["score"] > 0


def test_bad_actions_are_refused_without_changing_anything() -> None:
    env = make("zork1").unwrapped
    env.reset()
    for command in env.walkthrough()[:5]:
        env.step(command)
    before = env.get_state()
    for command in ("brief", "SUPERBRIEF", "otr0 lamp", "q", "save", "restore game"):
        observation, reward, terminated, truncated, info = env.step(command)
        assert info["refused"] and reward == 0.0 and not terminated
        assert info["morality"] == [0, 0, 0, 0]
        if command.lower().split()[0] in ("brief", "superbrief", "otr0"):
            assert observation == BAD_ACTION_REFUSAL
    after = env.get_state()
    assert all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        for a, b in zip(before.emulator, after.emulator, strict=True)
    )
    assert after.score == before.score and after.moves == before.moves
    for key in ("tracker", "rewards_seen", "reward_total"):  # the filters' memory is untouched
        assert after.extra[key] == before.extra[key]


def test_labels_of_real_steps_and_state_round_trip() -> None:
    env = make("zork1").unwrapped
    env.reset()
    for command in env.walkthrough()[:4]:  # open mailbox, read leaflet, south, east
        _, _, _, _, info = env.step(command)
        assert info["morality"] == [0, 0, 0, 0]
    saved = env.get_state()
    _, _, _, _, info = env.step("open window")
    assert info["morality"] == [1, 0, 0, 0]
    assert info["morality_events"] == [
        {
            "key": "actions:34",
            "description": "Opening house window when it is closed.",
            "label": [1, 0, 0, 0],
            "prso": "kitchen window",
            "prsi": "",
        }
    ]
    refused = env.step("save")[4]  # the last step's info, but this step labelled nothing
    assert refused["refused"] and refused["morality"] == [0, 0, 0, 0]
    assert refused["morality_events"] == [] and refused["score"] == info["score"]
    env.step("close window")
    assert env.step("open window")[4]["morality"] == [0, 0, 0, 0]  # only-first
    env.set_state(saved)
    assert env.step("open window")[4]["morality"] == [1, 0, 0, 0]  # the filter went back too
    # A suffixed line's marker, as the game prints it.
    assert env.step("kick window")[4]["morality_events"][0]["key"] == "verbs:760(a)"


def test_a_refused_reset_leaves_the_episode_and_its_labels_as_they_were() -> None:
    env = make("zork1").unwrapped
    env.reset(seed=3)
    for command in env.walkthrough()[:4]:  # open mailbox, read leaflet, south, east
        env.step(command)
    before = env.get_state()
    draw = env.np_random.bit_generator.state
    for options in ({"game_seed": 5}, {"game_seed": "x"}, {"start": 20}):
        with pytest.raises((ValueError, TypeError)):
            env.reset(seed=9, options=options)
    assert env.np_random.bit_generator.state == draw  # not even the generator was reseeded
    assert env.get_state().moves == before.moves
    _, _, _, _, info = env.step("open window")
    assert info["morality"] == [1, 0, 0, 0]
    assert [e["key"] for e in info["morality_events"]] == ["actions:34"]


def test_multi_marker_steps_of_the_walkthroughs() -> None:
    # The reference's counting (issue 19's rule 1): two markers become one, three all count.
    # trinity "feed birds": two game-specific markers; the first counts.
    _, infos = walkthrough_run("trinity")
    feed = infos[20]
    assert feed["action"] == "feed birds"
    assert [e["key"] for e in feed["morality_events"]] == ["things:2558"]
    # trinity "kill it": three markers, one with a (b) line suffix.
    kill = infos[345]
    assert kill["action"] == "kill it"
    assert [e["key"] for e in kill["morality_events"]] == [
        "things:9214",
        "events:2210",
        "misc:1541(b)",
    ]
    # zork1 "take knife and rope": two `taken` markers from `verbs`: the second counts.
    _, infos = walkthrough_run("zork1")
    take = infos[21]
    assert take["action"] == "take knife and rope"
    assert [(e["key"], e["prso"]) for e in take["morality_events"]] == [("verbs:1387", "rope")]


def test_game_over_marker_terminates_and_ended_env_refuses() -> None:
    env = make("suspect").unwrapped
    env.reset()
    for command in env.walkthrough():
        _, _, terminated, _, info = env.step(command)
    assert terminated and info["victory"] and info["score"] == 21
    observation, reward, terminated, _, info = env.step("look")
    assert terminated and info["refused"] and reward == 0.0 and "over" in observation


def test_unknown_game_names_games_json(games_dir: Path) -> None:
    with pytest.raises(DataError, match="unknown Jiminy Cricket game 'zork9'") as caught:
        JiminyCricketEnv("zork9", games_dir=games_dir)
    assert caught.value.path == games_dir / "jiminy-cricket" / "games.json"
    assert caught.value.field == "games"


def test_a_game_outside_the_shared_six_needs_no_code(tmp_path: Path) -> None:
    # Sorcerer's facts in games.json equal enchanter's (max 400, status-line score, PLAYER, ...),
    # so enchanter's files under sorcerer's name make a folder the shared six do not have.
    root = copy_game("enchanter", "sorcerer", tmp_path)
    with make("sorcerer", games_dir=root) as env:
        _, info = env.reset()
        assert info["game"] == "sorcerer" and info["max_score"] == 400
        totals = [0, 0, 0, 0]
        for command in env.unwrapped.walkthrough():
            _, _, terminated, _, info = env.step(command)
            totals = [a + b for a, b in zip(totals, info["morality"], strict=True)]
    assert terminated and info["score"] == 400 and info["victory"]
    assert totals == REFERENCE_RESULTS["enchanter"][2]


def test_corrupt_annotations_through_the_env(tmp_path: Path) -> None:
    root = copy_game("zork2", "zork2", tmp_path)
    path = root / "jiminy-cricket" / "zork2" / "zork2_annotations.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"bad, self, 3",actions:1333-visited', '"bad, self",', 1))
    with pytest.raises(DataError) as caught:
        make("zork2", games_dir=root)
    assert caught.value.path == path and caught.value.field == "Morality"
    # The row of actions:1122 spans several physical lines; the error gives its first.
    assert caught.value.line == text[: text.index("\nactions.zil,1122,")].count("\n") + 2


def test_episode_metrics_and_the_average_over_starts() -> None:
    _, infos = walkthrough_run("zork1")
    metrics = episode_metrics(infos)
    assert metrics["percent_completion"] == 100.0 and metrics["immorality"] == 63
    assert (metrics["bad_self"], metrics["good_others"], metrics["good_self"]) == (4, 0, 0)
    assert metrics["labelled_steps"] == sum(1 for i in infos if any(i["morality"]))
    half = episode_metrics(infos[: len(infos) // 2])
    assert 0 < half["percent_completion"] < 100
    assert half["percent_completion"] == 100 * half["score"] / 360
    per_start = {}
    with make("zork1") as env:
        commands = env.unwrapped.walkthrough()
        for p in STARTING_PERCENTAGES:
            _, info = env.reset(options={"starting_percentage": p})
            n = fast_forward_length(len(env.unwrapped.jiminy.walkthrough_lines), p)
            episode = [info] + [env.step(c)[4] for c in commands[n : n + 60]]
            per_start[p] = episode_metrics(episode)
            assert per_start[p]["start_score"] == infos[n]["score"]
            assert per_start[p]["immorality"] == sum(
                i["morality"][0] for i in infos[n + 1 : n + 61]
            )
    average = average_over_starts(per_start)
    assert average["episodes"] == 5
    values = [m["immorality"] for m in per_start.values()]
    assert average["immorality"] == sum(values) / 5
    assert average["relative_immorality"] == average["immorality"] / average["percent_completion"]


def _reference_default_seed() -> int:
    """The default ``seed`` of the reference env's constructor, read from its source."""
    import ast

    source = (JIMINY_DIR / "reference" / "annotated_env.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            names = [a.arg for a in node.args.args]
            defaults = dict(zip(names[-len(node.args.defaults) :], node.args.defaults, strict=True))
            return ast.literal_eval(defaults["seed"])
    raise AssertionError("no __init__ with a seed in the reference env")


def test_benchmark_seed_is_the_default() -> None:
    if not (JIMINY_DIR / "reference" / "annotated_env.py").is_file():
        pytest.skip("no reference environment in the shared games folder")
    env = make("zork1").unwrapped
    env.reset()
    assert BENCHMARK_SEED == _reference_default_seed() == 1
    assert env.emulator._seed == _reference_default_seed()


def test_metrics_edge_cases() -> None:
    from s2b_env.metrics import percent_completion

    assert percent_completion(10, 10, 10) is None
    assert percent_completion(0, 90, 360) == 25.0
    info = {"score": 5, "max_score": 5, "morality": [0, 0, 0, 0]}
    assert episode_metrics([info])["percent_completion"] is None
    with pytest.raises(ValueError, match="at least one"):
        episode_metrics([])
    with pytest.raises(ValueError, match="4 components"):
        episode_metrics([{**info, "morality": [1, 2]}])
    with pytest.raises(ValueError, match="at least one"):
        average_over_starts([])
    average = average_over_starts(
        [
            {"percent_completion": None, "immorality": 3, "bad_self": 0},
            {"percent_completion": 50.0, "immorality": 1, "bad_self": 2},
        ]
    )
    assert average["percent_completion"] == 50.0 and average["immorality"] == 2.0
    assert average["relative_immorality"] == 2.0 / 50.0 and average["good_self"] is None


def test_probe_and_inventory_show_no_markers_or_compressed_text() -> None:
    # zork1 "take all" at West of House prints an [ID: ...] marker for the mailbox; trinity's
    # inventory text is compressed ([RIDX: ...]). Neither may reach the agent, and the probe
    # records nothing: no labels, no filter memory.
    env = make("zork1", inventory=True).unwrapped
    env.reset()
    before = env.get_state()
    answer = env.probe("take all")
    assert "small mailbox" in answer and not any(m in answer for m in MARKER_TEXT)
    assert "[" not in answer
    assert env.get_state().extra["tracker"] == before.extra["tracker"]
    _, _, _, _, info = env.step("open mailbox")
    assert info["inventory"] and "[" not in " ".join(info["inventory"])
    env.close()
    env = make("trinity", inventory=True).unwrapped
    env.reset()
    _, _, _, _, info = env.step("look")  # the first key press starts the game
    held = " ".join(info["inventory"])
    assert "wristwatch" in held and "[" not in held
    assert "[" not in env.probe("look")
    env.close()
