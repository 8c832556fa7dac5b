"""``s2b play`` watching the walkthrough agent along a named route (``--route``) or a commands file
(``--walkthrough``), checked against the games' own data files."""

from __future__ import annotations

import re

import pytest

from s2b.cli import main
from s2b_env.inform.build import annotations_file, own_game_names, walkthrough_files
from s2b_env.inform.data import load_annotations, load_walkthrough
from tests.conftest import console_text


@pytest.mark.parametrize("game", own_game_names())
def test_play_a_route_shows_its_value_events_in_order(console, game: str) -> None:
    route = load_walkthrough(walkthrough_files(game)["caring"])
    events = load_annotations(annotations_file(game))
    code = main(["play", f"s2b-{game}", "--agent", "walkthrough", "--route", "caring"],
                console=console)  # fmt: skip
    out = console_text(console)
    assert code == 0, out
    # One "[value event]" line per event the route file says its commands fire, in that order,
    # each starting with the description from the game's annotation table.
    shown = re.findall(r"^\[value event\] (.{1,40})", out, re.M)
    assert len(shown) == len(route.all_events) >= 2
    expected = [
        events[e].description[: len(s)] for e, s in zip(route.all_events, shown, strict=True)
    ]
    assert shown == expected
    assert f"> {route.commands[0]}" in out
    assert re.search(rf"^score {route.score}/\d+ .*", out, re.M)
    assert f"{len(route.commands)} actions" in out


def test_play_a_walkthrough_file_sends_its_commands(console, games_dir, tmp_path) -> None:
    commands = tmp_path / "commands.txt"
    commands.write_text("open mailbox\n# a comment line\ntake leaflet\nread leaflet\n")
    code = main(["play", "zork1", "--agent", "walkthrough", "--walkthrough", str(commands),
                 "--games-dir", str(games_dir)], console=console)  # fmt: skip
    out = console_text(console)
    assert code == 0, out
    sent = re.findall(r"^> (.+)$", out, re.M)
    assert sent == ["open mailbox", "take leaflet", "read leaflet"]
    assert "Opening the small mailbox reveals a leaflet." in out
    assert "WELCOME TO ZORK!" in out  # the leaflet's text, as the game prints it
