"""Benchmark P5: episodes/s of the LLM agent through the vLLM CPU server vs the in-process model.

The same LLM agent (the default model, its default settings) plays the same episodes (same env,
same reset seeds) twice per repeat: with the in-process transformers backend, and with the OpenAI
backend against a vLLM CPU server started here (the bench's ``backend: vllm`` path, on loopback).
Model loading and server start-up are timed apart and not counted in episodes/s; the server is
started in each mode asked for (compiled, vLLM's default; eager, without model compilation: it
comes up sooner and serves slower), one after the other. It also reports
how many of the agent's choices agree between the two backends (both float32: they should nearly
all agree).

On a machine with a GPU, vLLM on the GPU is the comparison the issue asks for (goal >= 5x); this
script measures the CPU server only, and says so.

Run: .venv/bin/python benchmarks/p5_server.py [--env dilemma] [--split test] [--episodes 6]
     [--max-steps 3] [--repeats 2] [--clients 1,2] [--servers compiled,eager]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def _play(backend: Any, args: argparse.Namespace, seed: int, episodes: int) -> list[list[str]]:
    """Play ``episodes`` episodes with a fresh env and agent; returns each episode's actions."""
    from agents.engine import run_episodes
    from agents.events import EpisodeObserver
    from agents.llm_agent import LLMAgent
    from s2b_env.registration import make

    class Actions(EpisodeObserver):
        def __init__(self) -> None:
            self.episodes: list[list[str]] = []

        def on_episode_start(self, episode_id, seed, observation, info) -> None:
            self.episodes.append([])

        def on_step(self, event) -> None:
            self.episodes[-1].append(event.action)

    kwargs = {"split": args.split} if args.split else {}
    env = make(args.env, **kwargs)
    actions = Actions()
    try:
        agent = LLMAgent(backend, seed=seed)
        run_episodes(
            env, agent, episodes=episodes, seed=seed, max_steps=args.max_steps,
            observers=[actions],
        )  # fmt: skip
    finally:
        env.close()
    return actions.episodes


def _timed(backend: Any, args: argparse.Namespace, clients: int) -> tuple[float, list[Any]]:
    """Wall time of ``args.episodes`` episodes split over ``clients`` threads, and the results."""
    share = [args.episodes // clients + (i < args.episodes % clients) for i in range(clients)]
    seeds = [args.seed + 1000 * i for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [
            pool.submit(_play, backend, args, s, n) for s, n in zip(seeds, share, strict=True) if n
        ]
        results = [r for f in futures for r in f.result()]
    return time.perf_counter() - start, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dilemma", help="env id or short name")
    parser.add_argument("--split", default="test", help="the scenario split ('' for none)")
    parser.add_argument("--episodes", type=int, default=6, help="episodes per timed repeat")
    parser.add_argument("--max-steps", type=int, default=3, help="steps per episode at most")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats (best kept)")
    parser.add_argument("--seed", type=int, default=0, help="first reset seed")
    parser.add_argument(
        "--clients", default="1,2",
        help="server side: episodes played by this many threads at once, comma-separated counts "
        "each timed (one server; it batches concurrent requests)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1,
        help="torch threads in process (default: every CPU, as the vLLM CPU server uses)",
    )  # fmt: skip
    parser.add_argument(
        "--servers", default="compiled,eager",
        help="vLLM start-up modes to time, comma-separated: compiled (vLLM's default) and eager "
        "(--enforce-eager: no model compilation, s2b serve --eager)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    modes = [m.strip() for m in str(args.servers).split(",") if m.strip()]
    if not modes or any(m not in ("compiled", "eager") for m in modes):
        parser.error(f"--servers: expected compiled and/or eager, got {args.servers!r}")

    import s2b_env  # noqa: F401  (registers the env ids)
    from agents.backends.openai_backend import OpenAIBackend
    from agents.backends.transformers_backend import TransformersBackend
    from agents.backends.vllm_server import VLLMServer, vllm_python
    from agents.models import resolve_model

    if vllm_python() is None:
        print("P5 not measured: the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4)")
        return 0
    start = time.perf_counter()
    local = TransformersBackend(threads=args.threads)
    load_s = time.perf_counter() - start
    names = ["in process"]
    times: dict[str, list[float]] = {"in process": []}
    runs: dict[str, list[Any]] = {}
    startup: dict[str, float] = {}
    # One server per start-up mode, one after the other (two at once would share the 2 cores).
    for mode in modes:
        start = time.perf_counter()
        server = VLLMServer(resolve_model(None), eager=mode == "eager").start(wait=600)
        try:
            remote = OpenAIBackend(server.base_url, timeout=120, concurrency=4)
            startup[mode] = time.perf_counter() - start
            # Warm-up: one episode each (first-request compilation, caches).
            if not times["in process"]:
                _timed(local, argparse.Namespace(**{**vars(args), "episodes": 1}), 1)
            _timed(remote, argparse.Namespace(**{**vars(args), "episodes": 1}), 1)
            here = [f"{mode} x{n}" for n in clients]
            names += here
            times.update({name: [] for name in here})
            for _ in range(args.repeats):
                seconds, runs["in process"] = _timed(local, args, 1)
                times["in process"].append(seconds)
                for n, name in zip(clients, here, strict=True):
                    seconds, runs[name] = _timed(remote, args, n)
                    times[name].append(seconds)
        finally:
            server.stop()
    steps = {name: sum(len(actions) for actions in runs[name]) for name in names}
    best = {name: min(values) for name, values in times.items()}
    print(f"env {args.env} (split {args.split or '-'}), {args.episodes} episodes of at most "
          f"{args.max_steps} steps, default model, best of {args.repeats} interleaved repeats, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    servers = ", ".join(f"{mode} {seconds:.1f} s" for mode, seconds in startup.items())
    print(f"start-up: in-process model {load_s:.1f} s; vLLM CPU server: {servers}")
    for name in names:
        how = f"{args.threads} torch thread(s)" if name == "in process" else "client threads"
        print(
            f"{name:>14}: {args.episodes / best[name]:6.3f} episodes/s, "
            f"{1000 * best[name] / max(steps[name], 1):7.1f} ms per step ({how}; "
            f"{best['in process'] / best[name]:.2f}x in process)"
        )
    # The same seeds with one client: the same episodes, so the choices can be compared.
    for mode in modes:
        one = runs.get(f"{mode} x1")
        if one is not None:
            same = sum(a == b for a, b in zip(runs["in process"], one, strict=True))
            print(f"episodes with the same actions in process and on the {mode} server: "
                  f"{same}/{len(one)}")  # fmt: skip
    print("GPU: not run (no device lent to this task); the issue's goal there is >= 5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
