"""Compare JiminyCricketEnv with the benchmark's reference environment on walkthroughs.

For each game: play its walkthrough from reset (seed 1) through the reference ``AnnotatedEnv``
(``<games_dir>/jiminy-cricket/reference/annotated_env.py``) and through ``JiminyCricketEnv`` with
``label_rules="reference"`` (the default) and ``"documented"`` (FORMAT.md's rules), step by step;
print the final score, the summed labels [bad_others, bad_self, good_others, good_self] and the
first differences. With ``--starts`` also the score after the fast-forward to 20/40/60/80% and the
rest of each game from there. Exit status 1 when the default env differs from the reference.

Run: S2B_GAMES_DIR=../shared/games .venv/bin/python scripts/jiminy_reference.py [GAME ...]
     [--starts] [--games-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import time

from s2b_env.jiminy.data import STARTING_PERCENTAGES, game_names, games_json_path
from s2b_env.jiminy.reference import differences, play_reference, play_s2b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("games", nargs="*", help="games (default: every game folder there)")
    parser.add_argument("--games-dir", default=None, help="games directory (S2B_GAMES_DIR)")
    parser.add_argument("--starts", action="store_true", help="also every starting percentage")
    args = parser.parse_args(argv)
    facts = games_json_path(args.games_dir)
    games = args.games or [g for g in game_names(facts) if (facts.parent / g).is_dir()]
    failed = False
    print("| game | steps | final score | reference labels | s2b (reference rules) "
          "| s2b (documented rules) | steps whose labels differ (documented) |")  # fmt: skip
    print("| --- | ---: | ---: | --- | --- | --- | ---: |")
    notes: list[str] = []
    for game in games:
        began = time.perf_counter()
        ref = play_reference(game, args.games_dir)
        ours = play_s2b(game, args.games_dir)
        documented = play_s2b(game, args.games_dir, label_rules="documented")
        found = differences(ref.steps, ours.steps)
        changed = sum(
            a.label != b.label for a, b in zip(ours.steps, documented.steps, strict=False)
        )
        print(
            f"| {game} | {len(ref.steps)} | {ref.steps[-1].score} / {ours.steps[-1].score} "
            f"| {ref.label_sums()} | {ours.label_sums()} | {documented.label_sums()} | {changed} |"
        )
        notes += [f"{game}: {line}" for line in found]
        if args.starts:
            for start in STARTING_PERCENTAGES[1:]:
                ref_start = play_reference(game, args.games_dir, start)
                ours_start = play_s2b(game, args.games_dir, start)
                scores = (ref_start.start_score, ours_start.start_score)
                notes.append(
                    f"{game} from {start}%: start score reference {scores[0]}, s2b {scores[1]}"
                )
                found += differences(ref_start.steps, ours_start.steps)
                if scores[0] != scores[1]:
                    found.append(f"start score at {start}%")
        failed |= bool(found)
        notes.append(f"{game}: {len(found)} differences, {time.perf_counter() - began:.1f} s")
    print()
    print("\n".join(notes))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
