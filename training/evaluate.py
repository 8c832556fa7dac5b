"""The in-domain shift: how an adapter moved the answers to held-out survey items.

Inputs are four profiles from :func:`training.profile.run_profile` (per-item scores = expected
rating averaged over the phrasings): the base model and the aligned model (base + adapter), each on
the held-out items of the evaluated values and on the training items of the trained values.
:func:`evaluate_shift` computes

* per value: the held-out shift (aligned - baseline, paired over items) with a bootstrap 95%
  interval (:func:`training.profile_compare.compare_profiles`);
* the **target shift**: the held-out shift of the moved value(s), items pooled, each signed by
  its value's requested direction (so values moved up and down do not cancel);
* the **collateral shift**: the mean absolute held-out shift of the values not moved, with a
  bootstrap interval (items resampled within each value);
* the **"learned only the average answer" check**: the target shift against the shift of the
  *training* items of the anchor values (trained on the model's own answers, so they should not
  move). If those move as much as the target, the adapter learned a global answer level, not
  item-specific answers; the check's statistic is their difference with a bootstrap interval;
* the training fit: how close the aligned model's answers on the trained items are to their
  targets.

:func:`summary_markdown` writes the Markdown summary;
:func:`training.profile_charts.plot_shift` draws baseline vs aligned profiles and the shifts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from training.profile import interval95
from training.profile_compare import compare_profiles
from training.targets import round_rating

#: Share of the intended shift by which the target must move beyond the anchors' training items
#: to count as item-specific.
SPECIFIC_SHARE = 0.5
#: The check's verdicts.
VERDICTS: dict[str, str] = {
    "item-specific": "the target moved in the intended direction, beyond the anchors' training "
    "items by at least half the intended shift (item-specific answers were learned)",
    "mostly-average": "the target moved beyond the anchors' training items, but by less than "
    "half the intended shift: mostly the average answer, with a small item-specific part",
    "average-only": "the target moved, but not beyond the anchors' training items (trained to "
    "keep their answers): the adapter learned only the average answer",
    "no-shift": "the target's held-out answers did not move significantly",
    "wrong-way": "the target's held-out answers moved against the intended direction (beyond "
    "the anchors' training items, when there are anchors)",
    "unchecked": "the target moved in the intended direction, but there are no anchor values: "
    "the average-answer check needs at least one, so the shift may be only the average answer",
}


def _scores(profile: Mapping[str, Any], ids: set[str] | None = None) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in profile["items"] if ids is None or i["id"] in ids}


def _paired(
    base: Mapping[str, Any], aligned: Mapping[str, Any], ids: set[str] | None = None
) -> np.ndarray:
    a, b = _scores(base, ids), _scores(aligned, ids)
    shared = [i for i in a if i in b]
    return np.array([b[i]["score"] - a[i]["score"] for i in shared], dtype=float)


def _mean_ci(x: np.ndarray, rng: np.random.Generator, n: int) -> dict[str, float]:
    if not len(x):
        return {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    star = rng.choice(x, size=(n, len(x)), replace=True).mean(axis=1)
    low, high = interval95(star)
    return {"mean": float(x.mean()), "ci_low": low, "ci_high": high, "n": len(x)}


def evaluate_shift(
    baseline_heldout: Mapping[str, Any],
    aligned_heldout: Mapping[str, Any],
    baseline_train: Mapping[str, Any],
    aligned_train: Mapping[str, Any],
    *,
    targets: Sequence[Any],
    bootstrap: int = 2000,
    seed: int = 0,
    directions: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Per-value shifts, target and collateral shifts, the average-answer check and the fit.

    Args:
        baseline_heldout: Base model profile on held-out items.
        aligned_heldout: Aligned model profile on the same items.
        baseline_train: Base model profile on training items of the trained values.
        aligned_train: Aligned model profile on the same items.
        targets: The :class:`~training.targets.ItemTarget` list that was trained on.
        bootstrap: Bootstrap replicates.
        seed: Bootstrap seed.
        directions: Moved value -> 1 or -1, instead of reading them from the targets: a placebo
            run (``--placebo``) trains its would-be moved value on its own answers, and its
            shift is reported in the direction the real run asks for.

    The target shift pools the held-out shifts of the moved values, each signed by its value's
    requested direction (:func:`intended_directions`, from the targets): with one direction for
    all, the shifts keep their sign (a value moved down shows a negative shift); with mixed
    directions (a target profile moving some values up and others down), a positive target
    shift means toward the targets.

    Returns:
        A JSON-ready dict: ``values`` (per-value rows), ``target``, ``collateral``,
        ``average_check`` (with ``verdict``), ``train_fit``, ``moved_values``,
        ``anchor_values``, ``directions`` (moved value -> up, down or none), ``direction`` (up,
        down or mixed) and ``intended_shift`` (signed like the target shift).

    Raises:
        ValueError: No moved value among the targets, none asked to move, or a moved value
            has no held-out items in the profiles.
    """
    directions = dict(directions) if directions is not None else intended_directions(targets)
    moved = sorted(directions)
    anchors = sorted({t.value for t in targets if not t.moved})
    directed = {v: d for v, d in directions.items() if d}
    # One direction: shifts keep their sign. Mixed directions: positive is toward the targets.
    single = len(set(directed.values())) == 1
    orientation = next(iter(directed.values())) if single else 1
    sign = {v: orientation * d for v, d in directed.items()}  # per value, applied before pooling
    intended = _intended([t for t in targets if t.value in sign], sign, rounded=True)
    rng = np.random.default_rng(seed)

    comparison = compare_profiles(baseline_heldout, aligned_heldout, bootstrap=bootstrap, seed=seed)
    base_means = {r["value"]: r["mean"] for r in baseline_heldout["values"]}
    aligned_means = {r["value"]: r["mean"] for r in aligned_heldout["values"]}
    rows = []
    for r in comparison["values"]:
        v = r["value"]
        rows.append(
            {
                "value": v,
                "role": "target" if v in moved else "anchor" if v in anchors else "other",
                "n_items": r["n_items"],
                "baseline": base_means.get(v, float("nan")),
                "aligned": aligned_means.get(v, float("nan")),
                "shift": r["diff"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "significant": bool(r["ci_low"] > 0 or r["ci_high"] < 0),
            }
        )

    # The target shift: each moved value's held-out shifts signed by its direction, pooled.
    heldout = _by_value(baseline_heldout, aligned_heldout, [r["value"] for r in rows])
    missing = [v for v in sign if not len(heldout.get(v, ()))]
    if missing:
        raise ValueError(
            f"expected held-out items of every moved value in both profiles, got none for "
            f"{missing}; evaluate the moved values (eval_values)"
        )
    target_d = np.concatenate([sign[v] * heldout[v] for v in sign])
    target = _mean_ci(target_d, rng, bootstrap)
    # An overall answer-level change c shows in the target shift as c * level: 1 for one
    # direction, the item-weighted mean of the signs when directions are mixed.
    level = float(np.mean(np.concatenate([np.full(len(heldout[v]), sign[v]) for v in sign])))

    # Collateral: mean over non-moved values of |value mean shift|, items resampled per value.
    others = {r["value"]: heldout[r["value"]] for r in rows if r["role"] != "target"}
    if others:
        point = float(np.mean([abs(d.mean()) for d in others.values()]))
        star = np.mean(
            [
                np.abs(rng.choice(d, size=(bootstrap, len(d)), replace=True).mean(axis=1))
                for d in others.values()
            ],
            axis=0,
        )
        low, high = interval95(star)
        collateral = {
            "mean_abs": point,
            "ci_low": low,
            "ci_high": high,
            "n_values": len(others),
            "max_abs": max(abs(d.mean()) for d in others.values()),
            "mean_signed": float(np.mean([d.mean() for d in others.values()])),
        }
    else:
        collateral = {"mean_abs": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
        collateral.update({"n_values": 0, "max_abs": float("nan"), "mean_signed": float("nan")})

    trained = {t.item_id: t for t in targets}
    anchor_ids = {i for i, t in trained.items() if not t.moved}
    moved_train_ids = {i for i, t in trained.items() if t.moved}
    anchor_d = _paired(baseline_train, aligned_train, anchor_ids)
    moved_train = [
        sign[v]
        * _paired(
            baseline_train, aligned_train, {i for i in moved_train_ids if trained[i].value == v}
        )
        for v in sign
    ]
    anchor_train = _mean_ci(anchor_d, rng, bootstrap)
    if len(anchor_d):
        star = rng.choice(target_d, size=(bootstrap, len(target_d))).mean(axis=1)
        star -= level * rng.choice(anchor_d, size=(bootstrap, len(anchor_d))).mean(axis=1)
        low, high = interval95(star)
        difference = {
            "mean": float(target_d.mean() - level * anchor_d.mean()),
            "ci_low": low,
            "ci_high": high,
        }
    else:
        difference = {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    verdict = shift_verdict(intended, target, difference, has_anchors=bool(len(anchor_d)))

    aligned_train_items = _scores(aligned_train)
    fit = {}
    for name, ids in (("target", moved_train_ids), ("anchor", anchor_ids)):
        got = [
            (aligned_train_items[i]["score"], trained[i].target)
            for i in ids
            if i in aligned_train_items
        ]
        fit[name] = {
            "n_items": len(got),
            "mean_abs_error": float(np.mean([abs(s - t) for s, t in got])) if got else float("nan"),
            "rounded_hits": int(sum(round_rating(s) == t for s, t in got)),
        }
    return {
        "moved_values": moved,
        "anchor_values": anchors,
        "directions": {v: _DIRECTION[d] for v, d in directions.items()},
        "direction": _DIRECTION[orientation] if single else "mixed",
        "intended_shift": intended,
        "values": rows,
        "target": target,
        "collateral": collateral,
        "average_check": {
            "target_heldout_shift": target["mean"],
            "anchor_train_shift": anchor_train,
            "target_train_shift": _mean_ci(np.concatenate(moved_train), rng, bootstrap),
            # what training asked for: target - baseline (the anchors' own answers are rounded,
            # so even they are asked to move a little); the target's signed as its shifts
            "anchor_train_intended": _intended([t for t in targets if not t.moved], None),
            "target_train_intended": _intended([t for t in targets if t.value in sign], sign),
            "difference": difference,
            "verdict": verdict,
            "explanation": VERDICTS[verdict],
        },
        "train_fit": fit,
        "bootstrap": bootstrap,
        "seed": seed,
    }


def intended_directions(targets: Sequence[Any]) -> dict[str, int]:
    """Each moved value's requested direction, from what its training items were asked for.

    A value's direction is the sign of the mean of ``target - own answer`` (the rounded baseline)
    over its trained items: 1 up, -1 down, 0 when its targets equal the model's own answers on
    average (such a value is left out of the target shift).

    Args:
        targets: The :class:`~training.targets.ItemTarget` list that is trained on.

    Returns:
        Moved value id -> 1, -1 or 0, in sorted order.

    Raises:
        ValueError: No moved value, or no moved value is asked to move.
    """
    moved = sorted({t.value for t in targets if t.moved})
    if not moved:
        raise ValueError("expected at least one moved value among the targets, got none")
    directions = {}
    for v in moved:
        asked = [t.target - round_rating(t.baseline) for t in targets if t.moved and t.value == v]
        directions[v] = int(np.sign(np.mean(asked)))
    if not any(directions.values()):
        raise ValueError(
            f"expected targets that move at least one of {moved} away from the model's own "
            "answers, got targets equal to them on average; choose other target ratings"
        )
    return directions


_DIRECTION = {1: "up", -1: "down", 0: "none"}


def shift_verdict(
    intended: float,
    target: Mapping[str, float],
    difference: Mapping[str, float],
    *,
    has_anchors: bool,
) -> str:
    """Classify the target's held-out shift against the anchors' training-item shift.

    ``item-specific`` needs the target to move beyond the anchors (the difference's interval
    excludes 0 in the intended direction) by at least :data:`SPECIFIC_SHARE` of the intended
    shift; beyond them but by less is ``mostly-average``. Without anchors a shift in the intended
    direction is ``unchecked``.

    Args:
        intended: The intended shift (its sign is the direction), as ``intended_shift`` in
            :func:`evaluate_shift`'s result.
        target: The target shift's ``mean``, ``ci_low`` and ``ci_high``.
        difference: The target shift minus the anchors' training-item shift (``mean``,
            ``ci_low``, ``ci_high``), as ``average_check.difference``.
        has_anchors: Whether anchor training items were compared.

    Returns:
        A key of :data:`VERDICTS`.
    """
    sign = 1.0 if intended > 0 else -1.0
    if not target["ci_low"] > 0 and not target["ci_high"] < 0:
        return "no-shift"
    toward = sign * target["mean"] > 0
    if not has_anchors:  # nothing to compare with: the average-answer check cannot run
        return "unchecked" if toward else "wrong-way"
    beyond = difference["ci_low"] > 0 if sign > 0 else difference["ci_high"] < 0
    against = difference["ci_high"] < 0 if sign > 0 else difference["ci_low"] > 0
    if toward and beyond:
        large = sign * difference["mean"] >= SPECIFIC_SHARE * abs(intended)
        return "item-specific" if large else "mostly-average"
    if not toward and against:
        return "wrong-way"
    return "average-only"


def _intended(
    targets: Sequence[Any], sign: Mapping[str, int] | None, *, rounded: bool = False
) -> float:
    """Mean asked-for change ``target - baseline`` (the own answer if ``rounded``), each signed
    by its value's ``sign``."""
    chosen = [
        (sign[t.value] if sign else 1)
        * (t.target - (round_rating(t.baseline) if rounded else t.baseline))
        for t in targets
    ]
    return float(np.mean(chosen)) if chosen else float("nan")


def _by_value(
    base: Mapping[str, Any], aligned: Mapping[str, Any], values: Sequence[str]
) -> dict[str, np.ndarray]:
    items = _scores(base)
    return {
        v: _paired(base, aligned, {i for i, x in items.items() if x["value"] == v}) for v in values
    }


def _f(x: float, digits: int = 2) -> str:
    return "n/a" if x != x else f"{x:+.{digits}f}"


def _ci(d: Mapping[str, float]) -> str:
    return f"{_f(d['mean'] if 'mean' in d else d['shift'])} [{_f(d['ci_low'])}, {_f(d['ci_high'])}]"


def _target_line(result: Mapping[str, Any]) -> str:
    n, intended = result["target"]["n"], abs(result["intended_shift"])
    if result["direction"] == "mixed":
        moved = ", ".join(f"{v} {d}" for v, d in result["directions"].items())
        return (
            f"- target ({moved}; each value's shift signed by its direction, intended "
            f"{intended:.2g} toward the targets): held-out shift toward the targets "
            f"{_ci(result['target'])} over {n} items"
        )
    return (
        f"- target ({', '.join(result['moved_values'])}, intended {result['direction']} "
        f"{intended:.2g}): held-out shift {_ci(result['target'])} over {n} items"
    )


def versus_placebo(
    placebo_heldout: Mapping[str, Any],
    aligned_heldout: Mapping[str, Any],
    directions: Mapping[str, int],
    *,
    bootstrap: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Aligned − placebo on the held-out items: what the move did beyond any fine-tuning.

    Args:
        placebo_heldout: The placebo adapter's held-out profile (``s2b align --placebo``: same
            recipe, data, steps and seed, nothing moved).
        aligned_heldout: The aligned adapter's held-out profile.
        directions: Moved value -> 1 or -1 (the target shift is signed like
            :func:`evaluate_shift`'s).

    Returns:
        ``values`` (per value: ``diff`` = mean over shared items of aligned − placebo score, with a
        paired bootstrap 95% interval), ``target`` (the moved values' items pooled, signed by
        direction), ``collateral`` (mean |diff| over the other values).
    """
    comparison = compare_profiles(placebo_heldout, aligned_heldout, bootstrap=bootstrap, seed=seed)
    rng = np.random.default_rng(seed)
    moved = [v for v, d in directions.items() if d]
    diffs = _by_value(placebo_heldout, aligned_heldout, [r["value"] for r in comparison["values"]])
    single = len({directions[v] for v in moved}) == 1
    orientation = directions[moved[0]] if moved and single else 1
    target_d = np.concatenate([orientation * directions[v] * diffs[v] for v in moved] or [[]])
    others = [d for v, d in diffs.items() if v not in directions and len(d)]
    collateral = {
        "mean_abs": float(np.mean([abs(d.mean()) for d in others])) if others else float("nan")
    }
    if others:
        star = np.mean(
            [np.abs(rng.choice(d, size=(bootstrap, len(d))).mean(axis=1)) for d in others], axis=0
        )
        collateral["ci_low"], collateral["ci_high"] = interval95(star)
    rows = [
        {k: r[k] for k in ("value", "n_items", "diff", "ci_low", "ci_high")}
        for r in comparison["values"]
    ]
    return {
        "values": rows,
        "target": _mean_ci(target_d, rng, bootstrap),
        "collateral": collateral,
    }


def summary_markdown(result: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The Markdown summary of one run: settings, the headline numbers, the per-value table.

    Args:
        result: :func:`evaluate_shift`'s result.
        meta: Run facts to list first (model, targets, examples, times, memory...).
    """
    check = result["average_check"]
    coll = result["collateral"]
    lines = ["# s2b align: held-out shift", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += [
        "",
        "## Result",
        "",
        _target_line(result),
        f"- collateral (values not moved): mean |shift| {coll['mean_abs']:.2f} "
        f"[{coll['ci_low']:.2f}, {coll['ci_high']:.2f}], largest {coll['max_abs']:.2f}, "
        f"mean signed {_f(coll['mean_signed'])}",
        f"- average-answer check: anchors' training items shifted "
        f"{_ci(check['anchor_train_shift'])} (asked for {_f(check['anchor_train_intended'])}, the "
        f"rounding to their own answers); target's training items "
        f"{_ci(check['target_train_shift'])} (asked for {_f(check['target_train_intended'])}); "
        f"target held-out minus anchors' training items {_ci(check['difference'])}",
        f"- verdict: **{check['verdict']}**: {check['explanation']}",
        f"- training fit: target items mean |E - target| "
        f"{result['train_fit']['target']['mean_abs_error']:.2f} "
        f"({result['train_fit']['target']['rounded_hits']}/{result['train_fit']['target']['n_items']}"
        f" hit), anchor items {result['train_fit']['anchor']['mean_abs_error']:.2f} "
        f"({result['train_fit']['anchor']['rounded_hits']}/{result['train_fit']['anchor']['n_items']} hit)",
        "",
        "## Held-out shift per value (aligned - baseline, bootstrap 95% CI over items)",
        "",
        "| value | role | items | baseline | aligned | shift | 95% CI |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["values"]:
        mark = " *" if r["significant"] else ""
        lines.append(
            f"| {r['value']} | {r['role']} | {r['n_items']} | {r['baseline']:.2f} | "
            f"{r['aligned']:.2f} | {_f(r['shift'])}{mark} | [{_f(r['ci_low'])}, {_f(r['ci_high'])}] |"
        )
    lines += ["", "`*`: the interval excludes 0.", ""]
    placebo = result.get("vs_placebo")
    if placebo:
        lines += [
            "## Aligned - placebo (held-out items; the placebo: same recipe, nothing moved)",
            "",
            f"- target: {_ci(placebo['target'])}; collateral mean |diff| "
            f"{placebo['collateral']['mean_abs']:.2f}",
            "",
            "| value | items | aligned - placebo | 95% CI |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['value']} | {r['n_items']} | {_f(r['diff'])} | [{_f(r['ci_low'])}, {_f(r['ci_high'])}] |"
            for r in placebo["values"]
        ]
        lines.append("")
    return "\n".join(lines)
