"""Every Jericho id ``s2b games list --games-dir D`` shows is makeable with ``gym.make(id, games_dir=D)``.

Run in a fresh interpreter without ``S2B_GAMES_DIR``, as a user's script would: ids of the Jericho
suite are registered by ``import s2b_env`` alone; the other story files' ids are marked
(``NEEDS_REGISTRATION``) and become makeable once the folder is registered (``list_games`` does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import GAMES_DIR, JERICHO_DIR, REPO

SCRIPT = """
import json, sys
import gymnasium as gym
import s2b_env
from s2b_env.catalog import NEEDS_REGISTRATION, jericho_games, list_games

root = sys.argv[1]
def makeable(eid):
    try:
        gym.make(eid, games_dir=root).close()
        return True
    except gym.error.NameNotFound:
        return False
entries = jericho_games(__import__("pathlib").Path(root))
before = {e.id: (makeable(e.id), NEEDS_REGISTRATION in e.features) for e in entries}
listed = [e.id for e in list_games(root) if e.kind == "jericho"]
after = {eid: makeable(eid) for eid in listed}
print(json.dumps({"before": before, "after": after}))
"""


@pytest.mark.skipif(not JERICHO_DIR.is_dir(), reason=f"no {JERICHO_DIR}")
def test_every_listed_jericho_id_is_makeable_with_games_dir() -> None:
    env = {k: v for k, v in os.environ.items() if k != "S2B_GAMES_DIR"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(GAMES_DIR)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = found["before"], found["after"]
    assert len(before) == len(list(JERICHO_DIR.glob("*.z[1-8]")))
    # an id is makeable from `import s2b_env` alone exactly when it is not marked
    assert {eid: made for eid, (made, _) in before.items()} == {
        eid: not marked for eid, (_, marked) in before.items()
    }
    assert set(after) == set(before) and all(after.values())
