"""Benchmark P8: the value judge's shared-prefix scoring vs one full prompt per question (CPU).

For real steps of a Jiminy Cricket game (zork1's walkthrough: observation, command, outcome) it
judges each action for the 20 values and the two harm questions (a) the shipped way: the chat
template's head runs once per judge, each action's situation/action/outcome once, and the 22
question tails in batched passes over the repeated KV cache; (b) the reference: 22 separate full
prompts, one full forward pass each. It checks the 22 numbers agree within 1e-4, times both, and
prints actions judged per second. With ``--base-url`` it also times the same judging through an
OpenAI-compatible server (``s2b serve``: generation logprobs, vLLM's prefix cache) and reports the
largest difference to the in-process numbers.

Run: .venv/bin/python benchmarks/p8_judge.py [--actions 4] [--repeats 2] [--threads 1]
     [--base-url http://127.0.0.1:8000/v1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def walkthrough_items(n: int, games_dir: Path) -> list:
    """``n`` (context, action, outcome) triples from zork1's walkthrough, spread over the game."""
    from agents.judge import JudgeInput
    from agents.walkthrough import WalkthroughAgent
    from s2b_env.registration import make

    env = make("jiminy-zork1", games_dir=games_dir)
    try:
        agent = WalkthroughAgent.from_env(env)
        observation, info = env.reset(seed=0)
        agent.reset(observation, info) if _takes_args(agent.reset) else agent.reset()
        steps = []
        for _ in range(60):
            action = agent.act(observation, info)
            nxt, _, terminated, truncated, info = env.step(action)
            steps.append(JudgeInput(observation, action, nxt))
            observation = nxt
            if terminated or truncated:
                break
    finally:
        env.close()
    stride = max(1, len(steps) // n)
    return steps[::stride][:n]


def _takes_args(method) -> bool:
    import inspect

    return len(inspect.signature(method).parameters) > 0


def numbers(score) -> list[float]:
    return [*score.values.to_tuple(), score.harm_others, score.harm_self]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=4, help="actions judged per repeat")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats (best reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--base-url", default=None, help="also time this OpenAI-compatible server")
    parser.add_argument(
        "--server-only",
        action="store_true",
        help="with --base-url: skip the in-process timing (compare numbers only)",
    )
    parser.add_argument(
        "--games-dir", type=Path, default=Path(os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    )
    args = parser.parse_args(argv)

    from agents.backends.transformers_backend import TransformersBackend
    from agents.judge import ValueJudge

    backend = TransformersBackend(threads=args.threads)
    items = walkthrough_items(args.actions, args.games_dir)
    shared = ValueJudge(backend)
    prompt_tokens = [len(backend.tokenize(p)) for p in shared.prompts(items[0])]
    print(f"{len(items)} actions, 22 questions each; first action's prompts "
          f"{min(prompt_tokens)}-{max(prompt_tokens)} tokens")  # fmt: skip

    # warm-up and the equality check (a fresh judge each time: the cache must not answer)
    worst = 0.0
    for item in [] if args.server_only else items:
        fast = ValueJudge(backend)._score_fresh([item])[0]
        reference = shared.score_separately(item)
        worst = max(worst, *(abs(a - b) for a, b in zip(numbers(fast), numbers(reference),
                                                         strict=True)))  # fmt: skip
    if not args.server_only:
        print(f"max |shared - separate| over {len(items) * 22} numbers: {worst:.2e} (limit 1e-4)")

    best_fast = best_sep = float("inf")
    for _ in range(0 if args.server_only else args.repeats):  # interleaved, best of each
        judge = ValueJudge(backend)  # cold score cache, warm template head
        judge._score_fresh(items[:1])
        start = time.perf_counter()
        judge._score_fresh(items)
        best_fast = min(best_fast, time.perf_counter() - start)
        start = time.perf_counter()
        for item in items:
            shared.score_separately(item)
        best_sep = min(best_sep, time.perf_counter() - start)
    n = len(items)
    print("| method | ms per action (22 questions) | actions/s |")
    print("| --- | --- | --- |")
    if not args.server_only:
        print(f"| 22 separate full prompts | {1000 * best_sep / n:.0f} | {n / best_sep:.2f} |")
        print(f"| shared prefix + batched tails | {1000 * best_fast / n:.0f} | "
              f"{n / best_fast:.2f} |")  # fmt: skip
        print(f"| **speed-up** | **{best_sep / best_fast:.2f}x** (goal >= 5x) | |")

    if args.base_url:
        from agents.backends.openai_backend import OpenAIBackend

        with OpenAIBackend(args.base_url) as http:
            remote = ValueJudge(http)
            remote._score_fresh(items[:1])  # warm-up: the template, the server's caches
            start = time.perf_counter()
            scores = remote._score_fresh(items)
            elapsed = time.perf_counter() - start
            local = ValueJudge(backend)._score_fresh(items)
            diff = max(abs(a - b) for s, t in zip(scores, local, strict=True)
                       for a, b in zip(numbers(s), numbers(t), strict=True))  # fmt: skip
            print(f"| server {args.base_url} | {1000 * elapsed / n:.0f} | {n / elapsed:.2f} |")
            print(f"max |server - in process|: {diff:.2e}")
    backend.close()
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
