"""The units of an ``s2b study``: one (shaping, seed) each, and where each keeps its files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The condition name of the random-agent control.
RANDOM = "random"


def shaping_slug(spec: str) -> str:
    """A folder name for a shaping: ``"+1 x benevolence_caring"`` -> ``"p1_benevolence_caring"``."""
    if spec == "none":
        return "none"
    text = spec.replace("+", "p").replace("-", "m").replace(" x ", "_").replace(", ", "__")
    return re.sub(r"[^A-Za-z0-9_.]", "", text)


@dataclass(frozen=True)
class Unit:
    """One (shaping, seed) of a study; ``shaping`` is :data:`RANDOM` for the random control."""

    shaping: str
    seed: int

    def folder(self, out: Path) -> Path:
        name = RANDOM if self.shaping == RANDOM else shaping_slug(self.shaping)
        return out / "units" / name / f"seed{self.seed}"

    def done(self, out: Path) -> bool:
        return (self.folder(out) / "result.json").is_file()


__all__ = ["RANDOM", "Unit", "shaping_slug"]
