"""s2b's cache root: the one place that decides where built and converted files go.

Everything s2b writes for reuse (own games' story files, the converted default model, the valid
actions' probe cache) lives under :func:`cache_dir`: ``S2B_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/s2b``, else ``~/.cache/s2b``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The s2b cache folder: ``S2B_CACHE_DIR``, else ``$XDG_CACHE_HOME/s2b``, else ``~/.cache/s2b``.

    Empty settings count as unset. The folder may not exist yet.
    """
    explicit = os.environ.get("S2B_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "s2b"


__all__ = ["cache_dir"]
