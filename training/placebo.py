"""Placebo adapters: the same fine-tuning with nothing moved, as a control for ``s2b align``.

``s2b align --value V --direction D --delta N --placebo`` trains an adapter with the run's recipe,
values (V and its anchors), items, phrasings, steps and seed, but every target is the model's own
rounded answer, V's included. Whatever such an adapter shifts, any fine-tuning on these items
shifts. A real run given ``--placebo-run PLACEBO_RUN`` then reports aligned − placebo beside
aligned − base (:func:`training.evaluate.versus_placebo`).

Example::

    s2b align --value power_dominance --direction down --delta 2 --placebo --run-dir runs/p
    s2b align --value power_dominance --direction down --delta 2 --placebo-run runs/p
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s2b_env.errors import ConfigError
from training.align_config import AlignConfig, load_config
from training.profile import load_profile

#: The placebo run's held-out profile, relative to its run folder.
PLACEBO_PROFILE = Path("profiles") / "aligned-heldout" / "profile.json"


def placebo_shifts(shifts: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """A placebo's shifts (0 for every value: targets are the model's own answers) and the
    directions its report uses (the real run's: -1 down, 1 up)."""
    return {v: 0 for v in shifts}, {v: (1 if d > 0 else -1) for v, d in shifts.items()}


def load_placebo(config: AlignConfig, placebo_run: str | Path) -> dict[str, Any]:
    """The held-out profile of a placebo run that matches ``config``.

    Raises:
        ConfigError: ``placebo_run`` is no finished placebo run, or it differs from ``config`` in
            anything but the placebo setting (another value, direction, recipe, data or seed).
    """
    run = Path(placebo_run)
    saved = run / "config.yaml"
    if not saved.is_file() or not (run / PLACEBO_PROFILE).is_file():
        raise ConfigError(
            f"--placebo-run {run}: expected a finished s2b align --placebo run (config.yaml and "
            f"{PLACEBO_PROFILE}), found none"
        )
    theirs = load_config(saved).to_dict()
    ours = config.to_dict()
    if not theirs["targets"].get("placebo"):
        raise ConfigError(
            f"--placebo-run {run}: expected a run made with --placebo, got a real one"
        )
    for cfg in (theirs, ours):
        cfg["targets"]["placebo"] = False
        cfg["eval"]["placebo_run"] = None
    differ = sorted(
        f"{section}.{key}"
        for section, fields in ours.items()
        if isinstance(fields, dict)
        for key, value in fields.items()
        if theirs.get(section, {}).get(key) != value
    )
    if differ or theirs.get("model") != ours.get("model"):
        raise ConfigError(
            f"--placebo-run {run}: expected the same settings but the placebo, got differences in "
            f"{', '.join(differ) or 'model'}; train the placebo with this run's settings and --placebo"
        )
    return load_profile(run / PLACEBO_PROFILE)
