"""Valid-action coverage of whole walkthroughs (the rates quoted in docs/valid-actions.md).

For each game it plays the walkthrough from reset and counts the steps whose command, or a valid
action leaving the same world signature, is among the valid actions found before the step
(:func:`s2b_env.jericho.valid_actions.walkthrough_coverage`). jericho's own ``get_valid_actions`` is
measured the same way where it can run (spaCy and ``en_core_web_sm`` installed).

Run: .venv/bin/python benchmarks/va_coverage.py [zork1 detective pentari jiminy:zork1]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "games", nargs="*", default=["zork1", "detective", "pentari", "jiminy:zork1"]
    )
    parser.add_argument("--games-dir", default=os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    args = parser.parse_args(argv)

    from p3_valid_actions import jericho_available  # this script's folder is on sys.path

    from s2b_env.jericho.env import JerichoEnv
    from s2b_env.jericho.valid_actions import (
        ValidActionConfig,
        ValidActionFinder,
        walkthrough_coverage,
    )
    from s2b_env.jiminy.env import JiminyCricketEnv

    warnings.simplefilter("ignore")
    why_not = jericho_available()
    print(
        f"{'game':16}{'steps':>7}{'covered':>9}{'rate':>8}{'changing':>10}{'s/state':>9}  jericho"
    )
    for name in args.games:
        if name.startswith("jiminy:"):
            env = JiminyCricketEnv(name.split(":", 1)[1], games_dir=args.games_dir)
        else:
            env = JerichoEnv(name, games_dir=args.games_dir)
        env.reset()
        finder = ValidActionFinder(ValidActionConfig(cache_size=0))
        found = walkthrough_coverage(env, env.walkthrough(), finder=finder)
        theirs = f"not available here: {why_not}" if why_not else _jericho_rate(env)
        print(
            f"{name:16}{found.steps:7}{found.covered:9}{found.rate:8.3f}{found.changing:10}"
            f"{found.seconds / found.steps:9.3f}  {theirs}"
        )
        print(f"{'':16}missed: {found.missed}")
        env.close()
    return 0


def _jericho_rate(env) -> str:  # pragma: no cover - needs spaCy's model
    """jericho's get_valid_actions coverage of the same walkthrough (jericho-known games only)."""
    from s2b_env.jericho.valid_actions import world_signature

    if not env.known:
        return "n/a (jericho does not know this story file)"
    env.reset()
    covered = steps = 0
    for command in env.walkthrough():
        state = env.get_state()
        actions = env._frotz.get_valid_actions()
        env._frotz.set_state(state.emulator)
        env.step(command)
        after = world_signature(env)
        hit = command.lower() in actions
        for action in [] if hit else actions:
            env.set_state(state)
            env.step(action)
            hit = world_signature(env) == after
            if hit:
                break
        env.set_state(state)
        env.step(command)
        covered += hit
        steps += 1
    return f"{covered}/{steps} = {covered / steps:.3f}"


if __name__ == "__main__":
    sys.exit(main())
