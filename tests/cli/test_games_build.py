"""``s2b games build``: our own games compiled from source into an empty cache, checked against
what their sources declare (the Z-machine header is read here byte by byte, not through s2b)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from s2b.cli import main
from s2b_env.inform.build import own_game_names, source_file
from tests.conftest import console_text

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/inform6").exists() and not Path("/usr/games/inform6").exists(),
    reason="needs Debian's inform6-compiler (scripts/setup.sh installs it)",
)


def declared(name: str) -> tuple[int, str]:
    """The release number and serial the game's source declares."""
    text = source_file(name).read_text(encoding="utf-8")
    release = int(re.search(r"^Release (\d+);", text, re.M).group(1))
    serial = re.search(r'^Serial "(\d{6})";', text, re.M).group(1)
    return release, serial


def test_build_into_an_empty_cache_then_up_to_date_then_forced(console, tmp_path, monkeypatch):
    monkeypatch.setenv("S2B_CACHE_DIR", str(tmp_path))
    assert main(["games", "build"], console=console) == 0
    first = console_text(console)
    names = own_game_names()
    assert len(names) == 3
    stamps = {}
    for name in names:
        story = tmp_path / "games" / name / f"{name}.z5"
        data = story.read_bytes()
        release, serial = declared(name)
        assert data[0] == 5  # Z-machine version 5
        assert int.from_bytes(data[2:4], "big") == release
        assert data[0x12:0x18].decode("ascii") == serial
        # The header's file length (in units of 4 bytes for v5); Inform pads to 512 bytes.
        assert 0 <= len(data) - int.from_bytes(data[0x1A:0x1C], "big") * 4 < 512
        assert (tmp_path / "games" / name / f"{name}.json").is_file()
        assert re.search(rf"{name}\s.*built", first)
        stamps[name] = story.stat().st_mtime_ns

    console.file.truncate(0)
    console.file.seek(0)
    assert main(["games", "build"], console=console) == 0
    second = console_text(console)
    for name in names:
        assert re.search(rf"{name}\s.*up to date", second)
        assert (tmp_path / "games" / name / f"{name}.z5").stat().st_mtime_ns == stamps[name]

    console.file.truncate(0)
    console.file.seek(0)
    assert main(["games", "build", "--force"], console=console) == 0
    third = console_text(console)
    assert all(re.search(rf"{name}\s.*built", third) for name in names)
    assert "up to date" not in third
