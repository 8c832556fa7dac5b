"""What a bench report needs from an ``s2b align`` run folder, read as plain files.

An agent's ``adapter`` may be an align run folder or its ``adapter/`` subfolder. The run folder
holds ``config.yaml`` (targets: values, direction, delta, placebo; eval: placebo_run) and
``results.json`` (``values``: per value the held-out ``shift`` with ``ci_low``/``ci_high`` and
``n_items``; ``vs_placebo.values``: aligned − placebo ``diff`` rows when the run had a placebo;
``average_check.verdict``), as written by ``training/align.py``. Only the files are read: the
agents layer does not import ``training``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.bench.stats import Interval
from s2b_env.errors import DataError


@dataclass(frozen=True)
class AlignInfo:
    """One ``s2b align`` run as a bench report shows it.

    Attributes:
        run: The run folder.
        values: The moved (or, for a placebo, would-be moved) values.
        direction: ``up``, ``down`` or ``None`` (a target profile).
        placebo: The run trained on the model's own answers (``--placebo``).
        placebo_run: The placebo run its results compare with, if any.
        survey: Value -> held-out survey shift, aligned − base.
        vs_placebo: Value -> held-out survey difference, aligned − placebo.
        verdict: The run's average-answer check verdict.
        recipe: The training targets' recipe, ``(anchors, moved_target)`` (``hard``/``soft``,
            ``shifted``/``onehot``): a placebo stands in only for a run of the same recipe.
    """

    run: Path
    values: tuple[str, ...] = ()
    direction: str | None = None
    placebo: bool = False
    placebo_run: Path | None = None
    survey: dict[str, Interval] = field(default_factory=dict)
    vs_placebo: dict[str, Interval] = field(default_factory=dict)
    verdict: str | None = None
    recipe: tuple[str, str] = ("hard", "shifted")

    def describe(self) -> str:
        """One phrase: what the run trained (``power_dominance down, verdict average-only``)."""
        what = f"{'+'.join(self.values) or '?'} {self.direction or ''}".strip()
        return (f"placebo for {what}" if self.placebo else what) + (
            f", held-out verdict {self.verdict}" if self.verdict else ""
        )


def _rows(rows: Any, key: str, path: Path) -> dict[str, Interval]:
    out: dict[str, Interval] = {}
    for row in rows or []:
        try:
            out[str(row["value"])] = Interval(float(row[key]), float(row["ci_low"]),
                                              float(row["ci_high"]), int(row.get("n_items", 2)),
                                              paired=True)  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise DataError(
                path, f"a row without a numeric value/{key}/ci_low/ci_high: {row!r}", field="values"
            ) from None
    return out


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(path, f"not valid YAML ({exc})") from None
    return data if isinstance(data, dict) else {}


def find_align_run(adapter: str | Path | None, run_dir: Path) -> AlignInfo | None:
    """The align run an agent's adapter comes from, or ``None`` (no adapter, or not from one).

    A relative adapter path is tried from the working folder, then from the bench run's parent.
    """
    if not adapter:
        return None
    path = Path(adapter).expanduser()
    tries = [path] if path.is_absolute() else [path, run_dir.parent / path]
    for base in tries:
        for folder in (base, base.parent):
            config, results = folder / "config.yaml", folder / "results.json"
            if results.is_file() or (config.is_file() and (folder / "adapter").is_dir()):
                return _read(folder.resolve())
    return None


def _read(run: Path) -> AlignInfo:
    config = _load_yaml(run / "config.yaml") if (run / "config.yaml").is_file() else {}
    targets = config.get("targets") if isinstance(config.get("targets"), Mapping) else {}
    evals = config.get("eval") if isinstance(config.get("eval"), Mapping) else {}
    results: dict[str, Any] = {}
    path = run / "results.json"
    if path.is_file():
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(path, f"not valid JSON ({exc})") from None
    values = targets.get("values") or results.get("moved_values") or ()
    placebo_run = evals.get("placebo_run")
    check = results.get("average_check") or {}
    return AlignInfo(
        run=run,
        values=tuple(str(v) for v in values),
        direction=targets.get("direction") or results.get("direction"),
        placebo=bool(targets.get("placebo")),
        placebo_run=Path(placebo_run).expanduser().resolve() if placebo_run else None,
        survey=_rows(results.get("values"), "shift", path),
        vs_placebo=_rows((results.get("vs_placebo") or {}).get("values"), "diff", path),
        verdict=check.get("verdict") if isinstance(check, Mapping) else None,
        recipe=(
            str(targets.get("anchors") or "hard"),
            str(targets.get("moved_target") or "shifted"),
        ),
    )


def matching_placebo(info: AlignInfo, others: Mapping[str, AlignInfo]) -> str | None:
    """The agent whose adapter is this run's placebo: the run named by its ``placebo_run``, else
    a placebo run of the same values, direction and anchors recipe; ``None`` for a placebo or when
    none is."""
    if info.placebo:
        return None
    named = [name for name, o in others.items()
             if o.placebo and info.placebo_run and o.run == info.placebo_run]  # fmt: skip
    if named:
        return named[0]
    same = [name for name, o in others.items()
            if o.placebo and o.values == info.values and o.direction == info.direction
            and o.recipe[0] == info.recipe[0]]  # fmt: skip
    return (same or [None])[0]
