"""Game output cut by jericho's 8,191-character buffer is reported in ``info["warnings"]``:
issue 22, item 3 (observations over 8,191 characters were cut with no warning)."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

from s2b_env.inform.build import find_compiler, find_library
from s2b_env.jericho.core import FROTZ_OUTPUT_LIMIT
from s2b_env.jericho.env import JerichoEnv

SOURCE = Path(__file__).parents[1] / "data" / "long_room.inf"


@pytest.fixture(scope="module")
def long_room(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("long") / "long_room.z5"
    command = [
        str(find_compiler()),
        "-v5",
        f"+include_path={find_library()}",
        str(SOURCE),
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    return out


def test_cut_output_is_reported(long_room: Path) -> None:
    import jericho

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jericho: "not fully supported" (an unknown game)
        raw = jericho.FrotzEnv(str(long_room))
        raw.reset()
        text = raw.step("holler")[0]
    assert len(text) == FROTZ_OUTPUT_LIMIT and "END." not in text  # the oracle: jericho cuts it
    env = JerichoEnv(story_file=long_room)
    _, info = env.reset(seed=0)
    assert not any("output buffer" in w for w in info["warnings"])
    observation, *_, info = env.step("holler")
    assert "END." not in observation
    assert [w for w in info["warnings"] if "output buffer" in w] == [
        "the game printed more than jericho's 8191-character output buffer holds; the text after "
        "that was lost"
    ]
    *_, info = env.step("look")
    assert not any("output buffer" in w for w in info["warnings"])
    env.close()
