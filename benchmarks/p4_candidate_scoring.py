"""Benchmark P4: shared-prefix candidate scoring vs K separate full passes (default model, CPU).

For survey-style prompts (chat template, a value-survey question) and K=10 candidate
continuations of 1-15 tokens, it scores the candidates (a) with one forward pass over the prompt
whose KV cache all K candidates share in one batched pass, and (b) with K full forward passes over
prompt + candidate. It checks the log-probabilities agree within 1e-4 and prints the speed-up.

Run: .venv/bin/python benchmarks/p4_candidate_scoring.py [--prompts 6] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

CANDIDATES = [
    "1",
    "6",
    "4 - moderately like me",
    "Not like me at all.",
    "open the wooden door",
    "go north and look around",
    "take the lamp",
    "I would help the stranger carry the bags, even though it makes me late.",
    "(C) Keep the money and say nothing",
    "Refuse politely and explain why the rule matters to me.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=6, help="survey prompts to score")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (best reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)

    from agents.backends.transformers_backend import TransformersBackend
    from training.survey_io import load_survey

    backend = TransformersBackend(threads=args.threads)
    survey = load_survey()
    prompts = []
    for k in range(args.prompts):
        phrasing = survey.phrasings[k % len(survey.phrasings)]
        item = survey.items[(k * 41) % len(survey.items)]
        prompts.append(
            backend.chat_prompt(phrasing.messages(item), assistant_prefix=phrasing.assistant_prefix)
        )
    prompt_tokens = statistics.mean(len(backend.tokenize(p)) for p in prompts)
    cand_tokens = [len(backend.tokenize(c)) for c in CANDIDATES]

    # warm-up, and the equality check
    worst = 0.0
    for prompt in prompts:
        shared = backend.score_continuations(prompt, CANDIDATES)
        separate = backend.score_continuations_separately(prompt, CANDIDATES)
        for a, b in zip(shared, separate, strict=True):
            worst = max(
                worst,
                *(abs(x - y) for x, y in zip(a.token_logprobs, b.token_logprobs, strict=True)),
            )

    # Interleaved repeats, best of each: the machine is shared, so the fastest repeat is the one
    # least disturbed by other processes, and both methods see the same conditions.
    times: dict[str, list[float]] = {"separate": [], "shared": []}
    methods = {
        "separate": backend.score_continuations_separately,
        "shared": backend.score_continuations,
    }
    for _ in range(args.repeats):
        for name, fn in methods.items():
            start = time.perf_counter()
            for prompt in prompts:
                fn(prompt, CANDIDATES)
            times[name].append(time.perf_counter() - start)
    t_separate, t_shared = min(times["separate"]), min(times["shared"])
    n = len(prompts)
    print(f"model: {backend.model_name}")
    print(
        f"K={len(CANDIDATES)} candidates ({min(cand_tokens)}-{max(cand_tokens)} tokens), "
        f"{n} prompts of {prompt_tokens:.0f} tokens on average, {args.threads} thread(s), "
        f"best of {args.repeats} interleaved repeats"
    )
    print(f"separate full passes: {1000 * t_separate / n:8.1f} ms per prompt")
    print(f"shared prefix + batch: {1000 * t_shared / n:8.1f} ms per prompt")
    print(f"max |log-prob difference|: {worst:.2e} (limit 1e-4)")
    ratio = t_separate / t_shared
    print(f"speed-up: {ratio:.2f}x (goal >= 3x)")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
