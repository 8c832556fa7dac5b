"""Value profiles: a model's answers to the survey, grouped by value.

For every selected survey item and prompt phrasing the model sees the question (chat template,
then the phrasing's assistant prefix) and :mod:`agents.backends` gives its next-token
probabilities of the digits "1".."6": renormalised over the six digits they give an expected
rating in [1, 6]; their raw sum (the *digit mass*) says how much the model wanted to answer with a
digit at all. An item's score is the mean expected rating over the phrasings; a value's score is
the mean over its items, with a bootstrap 95% interval over items. The ipsative (centred) profile
subtracts the mean rating over all items (per bootstrap replicate, so its intervals include that
mean's uncertainty).

A run appends one JSON line per (item, phrasing) to ``results.jsonl`` in its output folder, so an
interrupted run continues where it stopped. ``profile.json``/``.csv``/``.png`` are written only
once every (item, phrasing) has a result; before that the folder holds no profile.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from s2b_env.errors import ConfigError, DataError
from training.profile_charts import plot_profile
from training.profile_util import interval95, write_rows_csv

RATINGS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
DIGITS: tuple[str, ...] = tuple(str(r) for r in RATINGS)
RESULTS_FILE = "results.jsonl"
OUTPUT_FILES = ("profile.json", "profile.csv", "items.csv", "profile.png")
FORMAT_VERSION = 1
#: Rating differences below this are numerical noise (two backends running the same model differ
#: by ~1e-5); a comparison counts a value as changed only if its interval excludes 0 by more.
NOISE = 1e-3
#: How ``s2b profile`` starts afresh, for :class:`ResultsLog`'s error on another run's results.
PROFILE_RESTART_HINT = "pass --no-resume to start afresh or choose another --out"


@dataclass
class ProfileConfig:
    """What to ask and how to summarise it (``s2b profile`` options)."""

    items: Literal["train", "heldout", "all"] = field(
        default="all", metadata={"help": "which survey items to ask: train, heldout or all"}
    )
    phrasings: tuple[str, ...] = field(
        default=(), metadata={"help": "phrasing ids to use (default: all in the survey)"}
    )
    values: tuple[str, ...] = field(
        default=(), metadata={"help": "value ids to ask about (default: all 20)"}
    )
    bootstrap: int = field(
        default=2000, metadata={"help": "bootstrap replicates for the 95%% intervals"}
    )
    seed: int = field(default=0, metadata={"help": "seed of the bootstrap"})
    out: Path = field(
        default=Path("runs/profile"), metadata={"help": "output folder (results.jsonl, profile.*)"}
    )
    resume: bool = field(
        default=True,
        metadata={"help": "continue from results.jsonl in --out (--no-resume starts afresh)"},
    )
    batch: int = field(
        default=16,
        metadata={"help": "prompts per backend call (the HTTP backend runs them at once)"},
    )

    def __post_init__(self) -> None:
        if self.items not in ("train", "heldout", "all"):
            raise ValueError(f"items: expected train, heldout or all, got {self.items!r}")
        if isinstance(self.phrasings, str):
            raise TypeError("phrasings: expected a tuple of ids, got a str")
        self.phrasings = tuple(self.phrasings)
        if isinstance(self.values, str):
            raise TypeError("values: expected a tuple of value ids, got a str")
        self.values = tuple(self.values)
        if not isinstance(self.bootstrap, int) or self.bootstrap < 100:
            raise ValueError(f"bootstrap: expected an integer >= 100, got {self.bootstrap!r}")
        if not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError(f"batch: expected an integer >= 1, got {self.batch!r}")
        self.out = Path(self.out)


@dataclass(frozen=True)
class ItemResult:
    """The model's answer distribution for one item under one phrasing."""

    item_id: str
    value: str
    split: str
    phrasing: str
    probs: tuple[float, ...]
    mass: float

    @property
    def expected(self) -> float:
        """The expected rating in [1, 6]."""
        return float(sum(p * r for p, r in zip(self.probs, RATINGS, strict=True)))

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item_id,
            "value": self.value,
            "split": self.split,
            "phrasing": self.phrasing,
            "probs": list(self.probs),
            "mass": self.mass,
            "expected": round(self.expected, 6),
        }

    @classmethod
    def from_json(cls, data: Any, path: Path, line: int) -> ItemResult:
        if not isinstance(data, dict):
            raise DataError(path, f"expected a JSON object, got {type(data).__name__}", line=line)
        for key in ("item", "value", "split", "phrasing"):
            if not isinstance(data.get(key), str):
                raise DataError(
                    path, f"expected a string, got {data.get(key)!r}", line=line, field=key
                )
        probs = data.get("probs")
        if (
            not isinstance(probs, list)
            or len(probs) != len(RATINGS)
            or not all(isinstance(p, int | float) and 0 <= p <= 1 for p in probs)
            or abs(sum(probs) - 1) > 1e-4
        ):
            raise DataError(
                path,
                f"expected 6 probabilities summing to 1, got {probs!r}",
                line=line,
                field="probs",
            )
        mass = data.get("mass")
        if not isinstance(mass, int | float) or not 0 <= mass <= 1 + 1e-9:
            raise DataError(
                path, f"expected a mass in [0, 1], got {mass!r}", line=line, field="mass"
            )
        return cls(
            data["item"], data["value"], data["split"], data["phrasing"], tuple(probs), float(mass)
        )


# -- running -----------------------------------------------------------------------------------


def run_meta(backend: Any, survey: Any, config: ProfileConfig) -> dict[str, Any]:
    """What a run's results depend on; a resumed run must match it."""
    chosen = select_phrasings(survey, config.phrasings)
    phrasing_text = json.dumps(
        [[p.id, p.system, p.user, p.assistant_prefix] for p in chosen], sort_keys=True
    )
    items_text = json.dumps([[i.id, i.value, i.text, i.split] for i in survey.items])
    return {
        "format": FORMAT_VERSION,
        "model": model_identity(backend),
        "items": config.items,
        "values": list(config.values),
        "phrasings": [p.id for p in chosen],
        "phrasings_sha256": hashlib.sha256(phrasing_text.encode()).hexdigest()[:16],
        "survey_sha256": hashlib.sha256(items_text.encode()).hexdigest()[:16],
    }


#: The weights file of a peft LoRA adapter folder.
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def model_identity(backend: Any) -> str:
    """The backend's model, named so that moving or re-typing an adapter's path does not change it.

    An in-process backend with a LoRA adapter folder is named by its base model and the sha256 of
    the adapter's weights (``"<model> + adapter sha256:<16 hex>"``), not by the adapter path as
    typed: a run folder resumed from another working directory, or after it was moved, still
    matches its results. Otherwise the backend's ``model_name``.
    """
    adapter_dir = getattr(backend, "adapter_dir", None)
    model_dir = getattr(backend, "model_dir", None)
    if adapter_dir is None or model_dir is None:
        return str(backend.model_name)
    weights = Path(adapter_dir) / ADAPTER_WEIGHTS
    if not weights.is_file():
        return str(backend.model_name)
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return f"{model_dir} + adapter sha256:{digest.hexdigest()[:16]}"


def select_phrasings(survey: Any, ids: Sequence[str]) -> list[Any]:
    """The phrasings named by ``ids`` (all when empty).

    Raises:
        ValueError: An id names no phrasing of the survey.
    """
    try:
        return [survey.phrasing(i) for i in ids] if ids else list(survey.phrasings)
    except KeyError as exc:
        raise ConfigError(f"--phrasings: {exc.args[0]}") from None


class ResultsLog:
    """The append-only ``results.jsonl`` of one run; its first line is the run's meta.

    Args:
        out: The run's folder.
        meta: :func:`run_meta` of the run.
        resume: Keep results of an earlier run with the same meta; otherwise start afresh.
        restart_hint: How to start afresh, for the error on a different run's results; default:
            the ``s2b profile`` options.

    Raises:
        ValueError: ``resume`` and the folder holds results of a different run.
        DataError: The file has a bad line (other than a cut-off last line, which is dropped).
    """

    def __init__(
        self,
        out: Path,
        meta: dict[str, Any],
        *,
        resume: bool = True,
        restart_hint: str | None = None,
    ) -> None:
        self.path = out / RESULTS_FILE
        self.meta = meta
        self.restart_hint = restart_hint or PROFILE_RESTART_HINT
        self.results: dict[tuple[str, str], ItemResult] = {}
        out.mkdir(parents=True, exist_ok=True)
        if resume and self.path.is_file() and self.path.stat().st_size:
            self._load()
        else:
            self.path.write_text(json.dumps({"meta": meta}) + "\n")

    def _load(self) -> None:
        lines = self.path.read_text().splitlines()
        try:
            head = json.loads(lines[0])["meta"]
        except (ValueError, KeyError, TypeError, IndexError):
            raise DataError(
                self.path, "expected the run's meta as the first line", line=1
            ) from None
        if head != self.meta:
            diff = {k: (head.get(k), v) for k, v in self.meta.items() if head.get(k) != v}
            raise ValueError(
                f"{self.path} holds results of a different run (differs in {diff}, as "
                f"(theirs, ours)); {self.restart_hint}"
            )
        good = 1
        for number, text in enumerate(lines[1:], start=2):
            try:
                data = json.loads(text)
            except ValueError:
                if number == len(lines):  # cut off by an interruption: drop it
                    break
                raise DataError(self.path, "expected a JSON object per line", line=number) from None
            result = ItemResult.from_json(data, self.path, number)
            self.results[(result.item_id, result.phrasing)] = result
            good = number
        if good != len(lines):
            self.path.write_text("\n".join(lines[:good]) + "\n")

    def append(self, result: ItemResult) -> None:
        """Record one result (flushed to disk at once)."""
        self.results[(result.item_id, result.phrasing)] = result
        with self.path.open("a") as fh:
            fh.write(json.dumps(result.to_json()) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


ProgressFn = Callable[[int, int, "ItemResult | None"], None]


def run_profile(
    backend: Any,
    survey: Any,
    config: ProfileConfig,
    *,
    progress: ProgressFn | None = None,
    restart_hint: str | None = None,
) -> dict[str, Any]:
    """Ask the survey and return the complete profile (also written to ``config.out``).

    Args:
        backend: A :class:`~agents.backends.base.ModelBackend`.
        survey: A :class:`training.survey.Survey`.
        config: What to ask and where to write.
        progress: Called as ``progress(done, total, result)`` after each result (and once at
            the start with ``result=None``).
        restart_hint: How the caller's user starts afresh when ``config.out`` holds another
            run's results (default: the ``s2b profile`` options; ``s2b align`` has others).

    Returns:
        The profile (as in ``profile.json``).

    Raises:
        KeyboardInterrupt: Passed on; ``results.jsonl`` keeps what was done, no profile is written.
    """
    items = survey.select(config.items, values=config.values or None)
    if not items:
        raise ConfigError(f"the survey has no {config.items} items of values {config.values}")
    phrasings = select_phrasings(survey, config.phrasings)
    meta = run_meta(backend, survey, config)
    # the log first: it refuses a folder holding another run's results, whose profile must survive
    log = ResultsLog(config.out, meta, resume=config.resume, restart_hint=restart_hint)
    for name in OUTPUT_FILES:  # never leave an old profile next to new, unfinished results
        (config.out / name).unlink(missing_ok=True)
    tasks = [(i, p) for i in items for p in phrasings]
    todo = [(i, p) for i, p in tasks if (i.id, p.id) not in log.results]
    done = len(tasks) - len(todo)
    if progress:
        progress(done, len(tasks), None)
    for start in range(0, len(todo), config.batch):
        chunk = todo[start : start + config.batch]
        prompts = [
            backend.chat_prompt(p.messages(i), assistant_prefix=p.assistant_prefix)
            for i, p in chunk
        ]
        dists = backend.next_token_distributions(prompts, DIGITS)
        for (item, phrasing), dist in zip(chunk, dists, strict=True):
            # stored rounded; a resumed run then aggregates exactly the same numbers
            probs = tuple(round(x, 8) for x in dist.probs)
            result = ItemResult(
                item.id, item.value, item.split, phrasing.id, probs, round(dist.mass, 8)
            )
            log.append(result)
            done += 1
            if progress:
                progress(done, len(tasks), result)
    results = [log.results[(i.id, p.id)] for i, p in tasks]
    profile = compute_profile(
        results, meta=meta, value_order=survey.values, bootstrap=config.bootstrap, seed=config.seed
    )
    write_profile(profile, results, config.out)
    return profile


# -- aggregation -------------------------------------------------------------------------------


def compute_profile(
    results: Iterable[ItemResult],
    *,
    meta: dict[str, Any],
    value_order: Sequence[str],
    bootstrap: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Aggregate per-(item, phrasing) results into the value profile.

    Returns:
        A JSON-ready dict: ``meta``, ``complete`` (always True here), ``values`` (one row per
        value: n_items, mean, ci, centred, centred_ci, mass), ``items`` (per-item scores, used by
        :func:`training.profile_compare.compare_profiles`), ``phrasings`` (mean mass and rating per phrasing), ``summary``.
    """
    by_item: dict[str, list[ItemResult]] = {}
    for r in results:
        by_item.setdefault(r.item_id, []).append(r)
    if not by_item:
        raise ValueError("expected results for at least one item, got none")
    items = [
        {
            "id": item_id,
            "value": rs[0].value,
            "split": rs[0].split,
            "score": float(np.mean([r.expected for r in rs])),
            "mass": float(np.mean([r.mass for r in rs])),
            "by_phrasing": {r.phrasing: round(r.expected, 6) for r in rs},
        }
        for item_id, rs in by_item.items()
    ]
    values = [v for v in value_order if any(i["value"] == v for i in items)]
    rng = np.random.default_rng(seed)
    scores = {v: np.array([i["score"] for i in items if i["value"] == v]) for v in values}
    resampled = {
        v: rng.choice(x, size=(bootstrap, len(x)), replace=True) for v, x in scores.items()
    }
    total_n = sum(len(x) for x in scores.values())
    grand = float(sum(x.sum() for x in scores.values()) / total_n)
    grand_star = sum(s.sum(axis=1) for s in resampled.values()) / total_n
    rows = []
    for v in values:
        means_star = resampled[v].mean(axis=1)
        mean = float(scores[v].mean())
        low, high = interval95(means_star)
        c_low, c_high = interval95(means_star - grand_star)
        rows.append(
            {
                "value": v,
                "n_items": len(scores[v]),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "centred": mean - grand,
                "centred_ci_low": c_low,
                "centred_ci_high": c_high,
                "mass": float(np.mean([i["mass"] for i in items if i["value"] == v])),
            }
        )
    phrasing_ids = sorted({r.phrasing for rs in by_item.values() for r in rs})
    all_results = [r for rs in by_item.values() for r in rs]
    phrasings = {
        p: {
            "mass": float(np.mean([r.mass for r in all_results if r.phrasing == p])),
            "expected": float(np.mean([r.expected for r in all_results if r.phrasing == p])),
            "argmax_counts": np.bincount(
                [int(np.argmax(r.probs)) for r in all_results if r.phrasing == p], minlength=6
            ).tolist(),
        }
        for p in phrasing_ids
    }
    means = [row["mean"] for row in rows]
    summary = {
        "mean_rating": grand,
        "value_mean_range": [min(means), max(means)],
        "value_mean_sd": float(np.std(means)),
        "values_off_centre": sum(
            1 for row in rows if row["centred_ci_low"] > 0 or row["centred_ci_high"] < 0
        ),
        "mean_digit_mass": float(np.mean([r.mass for r in all_results])),
        "min_digit_mass": float(np.min([r.mass for r in all_results])),
        "n_items": len(items),
        "n_results": len(all_results),
    }
    return {
        "meta": {**meta, "bootstrap": bootstrap, "seed": seed},
        "complete": True,
        "values": rows,
        "phrasings": phrasings,
        "summary": summary,
        "items": items,
    }


# -- output ------------------------------------------------------------------------------------


def write_profile(
    profile: dict[str, Any], results: Sequence[ItemResult], out: Path
) -> dict[str, Path]:
    """Write profile.json, profile.csv, items.csv (per item and phrasing) and profile.png."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in OUTPUT_FILES}
    write_rows_csv(paths["profile.csv"], profile["values"])
    with paths["items.csv"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["item", "value", "split", "phrasing", "mass", "expected", *[f"p{d}" for d in DIGITS]]
        )
        for r in results:
            writer.writerow(
                [r.item_id, r.value, r.split, r.phrasing, round(r.mass, 6), round(r.expected, 6)]
                + [round(p, 6) for p in r.probs]
            )
    plot_profile(profile, paths["profile.png"])
    # Written last: its presence marks a complete profile.
    tmp = paths["profile.json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(profile, indent=1) + "\n")
    tmp.replace(paths["profile.json"])
    return paths


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a ``profile.json`` (or a folder holding one), checking it is a complete profile."""
    path = Path(path)
    if path.is_dir():
        path = path / "profile.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such profile (run `s2b profile` first)")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise DataError(path, f"expected JSON, got a parse error: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("values"), list)
        or "items" not in data
    ):
        raise DataError(path, "expected a profile with 'values' and 'items'")
    if data.get("complete") is not True:
        raise DataError(path, "this profile is not complete", field="complete")
    return data
