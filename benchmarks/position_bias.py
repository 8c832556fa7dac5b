"""Position bias of the LLM agent's option choice, with and without order debiasing.

For every decision point of the scenario test splits (each dilemma node, reached along the first
path that gets there; each judgment item), the options are presented in several *input orders* (as
if the scenario file had listed them so: the env's numbered menu is reordered too): all orders for
2-3 options, the 4 cyclic shifts and the 4 reversed shifts for the 4 verdicts. For each input order
it records the choice of

* ``orders=1``: today's agent (the env's menu in the observation, the same order in its listing);
* ``orders=K``: the debiased agent (menu dropped, K listing orders averaged; see agents/choice.py);
* ``orders=K+cal``: the same, calibrated against the content-free prompt.

and reports, per split: the share of choices on the first and on the last listed position, the
share of decision points whose choice stays the same under every input order (agreement), the share
of input-order pairs that change the choice, the spread of the chosen options, and prompts per
choice. Each distinct prompt is scored once (every setting reads the same cached scores, so the
settings differ only in what they average); scores are kept in ``--cache`` (resumable).

Each decision point is scored on its own (history 0).

Run: .venv/bin/python benchmarks/position_bias.py [--orders 8] [--limit N]
     [--cache runs/position_bias.jsonl] [--timing 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def decision_points(kind: str, split: str, limit: int | None) -> list[dict[str, Any]]:
    """Every decision point of ``split``: id, observation and options (dilemma nodes by BFS)."""
    import gymnasium as gym

    import s2b_env  # noqa: F401  (registers the ids)

    env = gym.make(f"s2b/{kind}-v0", split=split).unwrapped
    points: list[dict[str, Any]] = []
    for item in sorted(env.items, key=lambda r: r.id):
        observation, info = env.reset(options={"item_id": item.id})
        if kind == "judgment":
            points.append({"id": item.id, "observation": observation, "options": info["options"]})
            continue
        seen: set[str] = set()
        queue: list[list[str]] = [[]]
        while queue:
            path = queue.pop(0)
            observation, info = env.reset(options={"item_id": item.id})
            for action in path:
                observation, _, _, _, info = env.step(action)
            node = info["node"]
            if node is None or node in seen:
                continue
            seen.add(node)
            points.append(
                {"id": f"{item.id}/{node}", "observation": observation, "options": info["options"]}
            )
            queue.extend([*path, label] for label in info["options"])
    return points[:limit] if limit else points


def input_orders(n: int) -> list[tuple[int, ...]]:
    """The input orders a decision point is presented in."""
    if n <= 3:
        return list(itertools.permutations(range(n)))
    shifts = [tuple((p + s) % n for p in range(n)) for s in range(n)]
    return shifts + [tuple((n - 1 - p + s) % n for p in range(n)) for s in range(n)]


class Scorer:
    """Position probabilities of prompts, cached by key in a JSONL file."""

    def __init__(self, agent: Any, cache: Path | None) -> None:
        self.agent = agent
        self.cache_path = cache
        self.cache: dict[str, list[float]] = {}
        self.scored = 0
        if cache is not None and cache.is_file():
            for line in cache.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn last line: scored again
                self.cache[record["key"]] = record["probs"]

    def probs(self, jobs: list[tuple[str, str]], n: int) -> list[list[float]]:
        """Position probabilities for ``(key, prompt)`` jobs, scoring the missing ones at once."""
        missing = [(k, p) for k, p in dict(jobs).items() if k not in self.cache]
        if missing:
            numbers = [str(i + 1) for i in range(n)]
            dists = self.agent.backend.next_token_distributions([p for _, p in missing], numbers)
            self.scored += len(missing)
            with self.cache_path.open("a") if self.cache_path else _Null() as out:
                for (key, _), dist in zip(missing, dists, strict=True):
                    self.cache[key] = list(dist.probs)
                    out.write(json.dumps({"key": key, "probs": list(dist.probs)}) + "\n")
        return [self.cache[k] for k, _ in jobs]


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def write(self, text: str) -> None:
        pass


def choices_for(point: dict[str, Any], agent: Any, scorer: Scorer, k: int) -> dict[str, list]:
    """For each input order: the chosen option index (in the original list) under each setting."""
    from agents.choice import (
        average_over_orders,
        calibrate,
        option_orders,
        permute_menu,
        split_menu,
    )

    options = point["options"]
    n = len(options)
    inputs = input_orders(n)
    body, texts = split_menu(point["observation"], options)  # type: ignore[misc]
    # today's agent: the env's menu and the listing in the input order
    plain_jobs = []
    for order in inputs:
        observation, listed = permute_menu(point["observation"], options, order)
        prompt = agent._option_prompt(agent._messages(observation, agent._listing(listed)))
        plain_jobs.append((f"{point['id']}|plain|{order}", prompt))
    # the debiased agent: the menu dropped, its own orders of the input order
    agent_orders = option_orders(n, k)
    listings = {tuple(order[i] for i in perm) for order in inputs for perm in agent_orders}
    listings_sorted = sorted(listings)
    debiased_jobs = [
        (
            f"{point['id']}|listing|{lst}",
            agent._option_prompt(agent._messages(body, agent._listing([texts[i] for i in lst]))),
        )
        for lst in listings_sorted
    ]
    free_jobs = [
        (
            f"content-free|{[texts[i] for i in lst]}",
            agent._option_prompt(
                [
                    {"role": "system", "content": agent.config.system},
                    {
                        "role": "user",
                        "content": f"N/A\n\n{agent._listing([texts[i] for i in lst])}",
                    },
                ]
            ),
        )
        for lst in listings_sorted
    ]
    plain = scorer.probs(plain_jobs, n)
    listed = dict(zip(listings_sorted, scorer.probs(debiased_jobs, n), strict=True))
    free = dict(zip(listings_sorted, scorer.probs(free_jobs, n), strict=True))
    out: dict[str, list] = {"inputs": inputs, "plain": [], "debiased": [], "calibrated": []}
    for order, probs in zip(inputs, plain, strict=True):
        out["plain"].append(order[max(range(n), key=probs.__getitem__)])
        lsts = [tuple(order[i] for i in perm) for perm in agent_orders]
        avg = average_over_orders([listed[lst] for lst in lsts], lsts)
        out["debiased"].append(max(range(n), key=avg.__getitem__))
        cal = average_over_orders([calibrate(listed[lst], free[lst]) for lst in lsts], lsts)
        out["calibrated"].append(max(range(n), key=cal.__getitem__))
    return out


def summarise(points: list[dict[str, Any]], results: list[dict[str, list]], setting: str) -> dict:
    """Position shares, agreement across input orders and spread of choices for one setting."""
    first = last = total = stable = pairs = changed = 0
    picked: Counter[str] = Counter()
    for point, result in zip(points, results, strict=True):
        picks = result[setting]
        n = len(point["options"])
        for order, pick in zip(result["inputs"], picks, strict=True):
            position = order.index(pick)
            first += position == 0
            last += position == n - 1
            total += 1
            picked[point["options"][pick]] += 1
        stable += len(set(picks)) == 1
        for a, b in itertools.combinations(picks, 2):
            pairs += 1
            changed += a != b
    return {
        "choices": total,
        "first": first / total,
        "last": last / total,
        "stable_points": stable,
        "points": len(points),
        "changed_pairs": changed / max(1, pairs),
        "picked": picked.most_common(6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=8, help="the debiased agent's orders")
    parser.add_argument("--limit", type=int, default=None, help="decision points per split")
    parser.add_argument("--cache", type=Path, default=None, help="JSONL of scored prompts (resume)")
    parser.add_argument("--timing", type=int, default=0, help="time shared vs separate on N points")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args(argv)

    from agents.backends.transformers_backend import TransformersBackend
    from agents.choice import option_orders, split_menu
    from agents.llm_agent import LLMAgent, LLMAgentConfig

    backend = TransformersBackend(threads=args.threads)
    agent = LLMAgent(backend, LLMAgentConfig(history=0, orders=args.orders))
    scorer = Scorer(agent, args.cache)
    report: dict[str, Any] = {"orders": args.orders, "splits": {}}
    for kind in ("dilemma", "judgment"):
        points = decision_points(kind, "test", args.limit)
        results = []
        start = time.perf_counter()
        for i, point in enumerate(points, start=1):
            results.append(choices_for(point, agent, scorer, args.orders))
            elapsed = time.perf_counter() - start
            eta = elapsed / i * (len(points) - i)
            print(f"{kind} {i}/{len(points)} scored {scorer.scored} eta {eta:.0f}s",
                  file=sys.stderr, flush=True)  # fmt: skip
        sizes = Counter(len(p["options"]) for p in points)
        k_used = {n: len(option_orders(n, args.orders)) for n in sizes}
        report["splits"][kind] = {
            "points": len(points),
            "options": dict(sizes),
            "prompts_per_choice": {"plain": 1, "debiased": k_used, "calibrated_extra": k_used},
            **{s: summarise(points, results, s) for s in ("plain", "debiased", "calibrated")},
        }
    if args.timing:
        points = decision_points("dilemma", "test", None)
        points = [p for p in points if len(p["options"]) == 3][: args.timing]
        shared_s = separate_s = 0.0
        for point in points:
            body, texts = split_menu(point["observation"], point["options"])  # type: ignore[misc]
            prompts = [
                agent._option_prompt(agent._messages(body, agent._listing([texts[i] for i in o])))
                for o in option_orders(3, args.orders)
            ]
            t = time.perf_counter()
            backend.next_token_distributions(prompts, ["1", "2", "3"])
            shared_s += time.perf_counter() - t
            t = time.perf_counter()
            for prompt in prompts:
                backend.next_token_distribution(prompt, ["1", "2", "3"])
            separate_s += time.perf_counter() - t
        report["timing"] = {"points": len(points), "shared_s": shared_s, "separate_s": separate_s,
                            "speedup": separate_s / shared_s}  # fmt: skip
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
