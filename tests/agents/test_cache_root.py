"""One cache root for everything s2b keeps: the default model, own games, the probe cache."""

from __future__ import annotations

from pathlib import Path

from agents.models import default_model_dir
from s2b_env.cache import cache_dir
from s2b_env.inform.build import build_dir


def test_every_cache_user_honours_the_same_settings(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("S2B_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "xdg" / "s2b"
    assert cache_dir() == root
    assert default_model_dir().parent.parent == root
    assert build_dir("lastferry") == root / "games" / "lastferry"
    monkeypatch.setenv("S2B_CACHE_DIR", str(tmp_path / "mine"))  # wins over XDG_CACHE_HOME
    assert default_model_dir().parent.parent == tmp_path / "mine"
    assert build_dir("lastferry").parent.parent == tmp_path / "mine"
    monkeypatch.setenv("S2B_CACHE_DIR", "")  # empty: unset
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "s2b"
