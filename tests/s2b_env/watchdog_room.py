"""Builds the watchdog test room (``data/watchdog_room.inf``): a game with a command that hangs.

``spin <object>`` runs an endless Z-code loop and ``recurse`` overflows the stack (Frotz halts);
``take box`` and the rest behave. Compiled with the Inform 6 tools s2b's own games use.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from s2b_env.inform.build import find_compiler, find_library

SOURCE = Path(__file__).parent / "data" / "watchdog_room.inf"


def build_watchdog_room(folder: Path) -> Path:
    """Compile the room into ``folder``; returns the story file."""
    out = folder / "watchdog_room.z5"
    command = [
        str(find_compiler()),
        "-v5",
        f"+include_path={find_library()}",
        str(SOURCE),
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"inform6 failed on {SOURCE}:\n{done.stdout}\n{done.stderr}")
    return out
