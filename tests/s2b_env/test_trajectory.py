"""Trajectory format v1: writing, reading back, version checks and crash tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from s2b_env.errors import DataError
from s2b_env.trajectory import TrajectoryWriter, read_header, read_trajectory


def write_two_episodes(path) -> None:
    with TrajectoryWriter(path, run_id="r1", env_id="s2b/x-v0", header={"game": "x"}) as w:
        for episode in range(2):
            w.write_step(
                episode_id=episode,
                seed=episode,
                step=0,
                action=None,
                observation="start",
                reward=0.0,
                terminated=False,
                truncated=False,
                info={"score": 0},
            )
            w.write_step(
                episode_id=episode,
                seed=episode,
                step=1,
                action="go",
                observation="end",
                reward=np.float32(1.5),
                terminated=True,
                truncated=False,
                info={"score": np.int64(2), "vec": np.array([1, 2])},
            )
            w.write_episode_end(episode_id=episode, summary={"score": 2})  # fmt: skip


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    trajectory = read_trajectory(path)
    assert trajectory.header["version"] == "1.1" and trajectory.header["game"] == "x"
    assert trajectory.header["s2b_version"]
    assert [e.episode_id for e in trajectory.episodes] == [0, 1]
    episode = trajectory.episodes[1]
    assert episode.actions == ["go"] and episode.total_reward == 1.5 and episode.complete
    assert episode.steps[1]["info"]["vec"] == [1, 2] and episode.steps[1]["score"] == 2


def test_each_line_is_flushed_as_written(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    writer = TrajectoryWriter(path, run_id="r", env_id="e")
    writer.write_step(episode_id=0, seed=None, step=0, action=None, observation="o", reward=0,
                      terminated=False, truncated=False, info={})  # fmt: skip
    lines = path.read_text().splitlines()  # read while the writer is still open
    assert len(lines) == 2 and json.loads(lines[1])["observation"] == "o"
    writer.close()


def test_other_major_version_is_refused_with_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["version"] = "2.0"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(DataError) as err:
        read_trajectory(path)
    message = str(err.value)
    assert str(path) in message and "line 1" in message and "'version'" in message
    assert "1.x" in message and "2.0" in message


def test_minor_versions_are_read(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    text = path.read_text().replace('"version": "1.1"', '"version": "1.7"', 1)
    path.write_text(text)
    assert len(read_trajectory(path).episodes) == 2


def test_partial_last_line_is_skipped_and_cut_before_appending(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    with path.open("a") as handle:
        handle.write('{"type": "step", "run_id": "r1", "epi')
    trajectory = read_trajectory(path)
    assert trajectory.partial_last_line and len(trajectory.episodes) == 2
    TrajectoryWriter(path, run_id="r1", env_id="s2b/x-v0").close()
    assert not read_trajectory(path).partial_last_line


def test_malformed_lines_name_the_line_and_field(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    lines = path.read_text().splitlines()
    broken = json.loads(lines[2])
    del broken["observation"]
    path.write_text("\n".join([lines[0], lines[1], json.dumps(broken), *lines[3:]]) + "\n")
    with pytest.raises(DataError, match=r"line 3, field 'observation'"):
        read_trajectory(path)
    path.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"line 2: not valid JSON"):
        read_trajectory(path)
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_trajectory(path)
    path.write_text('{"type": "step"}\n')
    with pytest.raises(DataError, match="header"):
        read_header(path)


def test_appending_to_another_runs_file_is_refused(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    write_two_episodes(path)
    with pytest.raises(ValueError, match="belongs to run 'r1'"):
        TrajectoryWriter(path, run_id="other", env_id="s2b/x-v0")
