"""Benchmark P3: valid actions on a revisited state vs their first computation (and vs jericho's).

Walks the first ``--states`` states of a game's walkthrough. At each it times the first
computation of the valid actions (memory cache emptied before each), then a revisit of the same
state (a cache lookup), and reports the ratio of the totals. It also reports the first
computation with worker processes (``--workers``) and in this process, and jericho's own
``FrotzEnv.get_valid_actions`` on the same states where it can run (it needs spaCy and its
``en_core_web_sm`` model; the script never downloads them).

Run: .venv/bin/python benchmarks/p3_valid_actions.py [--game zork1] [--states 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings


def jericho_available() -> str | None:
    """``None`` if jericho's get_valid_actions can run here, else why not."""
    if importlib.util.find_spec("spacy") is None:
        return "spaCy is not installed"
    import spacy

    if not spacy.util.is_package("en_core_web_sm"):
        return "spaCy's en_core_web_sm model is not installed (jericho would try to download it)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="zork1", help="a Jericho game with a walkthrough")
    parser.add_argument("--states", type=int, default=20, help="walkthrough states measured")
    parser.add_argument("--workers", type=int, default=2, help="probe worker processes")
    parser.add_argument("--games-dir", default=os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    args = parser.parse_args(argv)

    from s2b_env.jericho.env import JerichoEnv
    from s2b_env.jericho.valid_actions import MEMORY_CACHE, ValidActionConfig, ValidActionFinder

    warnings.simplefilter("ignore")
    env = JerichoEnv(args.game, games_dir=args.games_dir)
    env.reset()
    pooled = ValidActionFinder(ValidActionConfig(workers=args.workers))
    local = ValidActionFinder(ValidActionConfig(workers=0, cache_size=0))
    pooled.find(env)  # start the workers outside the timings
    MEMORY_CACHE.clear()
    why_not = jericho_available()
    totals = {"first (workers)": 0.0, "first (this process)": 0.0, "revisit": 0.0, "jericho": 0.0}
    sizes = []
    for command in env.walkthrough()[: args.states]:
        MEMORY_CACHE.clear()
        start = time.perf_counter()
        found = pooled.find(env)
        totals["first (workers)"] += time.perf_counter() - start
        start = time.perf_counter()
        again = pooled.find(env)
        totals["revisit"] += time.perf_counter() - start
        assert again.cached and again.actions == found.actions
        start = time.perf_counter()
        local.find(env)
        totals["first (this process)"] += time.perf_counter() - start
        if why_not is None:
            start = time.perf_counter()
            env._frotz.get_valid_actions()
            totals["jericho"] += time.perf_counter() - start
        sizes.append(len(found.actions))
        env.step(command)
    n = len(sizes)
    print(f"P3 {args.game}: {n} walkthrough states, {sum(sizes) / n:.1f} valid actions on average")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name, total in totals.items():
        if name == "jericho" and why_not is not None:
            print(f"{'jericho get_valid_actions':28}not available here: {why_not}")
            continue
        print(f"{name:28}{total / n * 1e3:10.3f} ms/state")
    first = totals["first (workers)"]
    print(f"revisit speed-up: {first / totals['revisit']:.0f}x (goal >= 100x)")
    local_first = totals["first (this process)"]
    print(f"workers vs this process: {local_first / first:.2f}x faster with {args.workers} workers")
    if why_not is None:
        print(f"first computation vs jericho: {totals['jericho'] / first:.2f}x (goal >= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
