"""Compare survey prompt formats on a model: digit mass, rating level, spread between values.

The experiment behind the table in docs/profile.md ("Prompt formats"). For N items per value and
each format it reports the mean raw next-token mass on the digits 1-6, the mean expected rating,
the range and standard deviation of the value means, how often each digit is the most likely,
and the correlation of item scores between formats (how much the statement, not the format,
drives the rating).

Run: .venv/bin/python scripts/prompt_formats.py [--per-value 4] [--only portrait plain_chat ...]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

RATINGS = [1, 2, 3, 4, 5, 6]
REVERSED_SCALE = "\n".join(
    f"{k} = {t}"
    for k, t in [
        (6, "very much like me"),
        (5, "like me"),
        (4, "moderately like me"),
        (3, "a little like me"),
        (2, "not like me"),
        (1, "not like me at all"),
    ]
)


def formats(survey) -> dict[str, tuple[object, str]]:
    """Format name -> (phrasing, assistant prefix actually used)."""
    from training.survey import Phrasing

    def ph(pid: str, user: str, system: str | None = None, prefix: str = "") -> tuple:
        return Phrasing(id=pid, user=user, system=system, assistant_prefix=prefix), prefix

    out: dict[str, tuple[object, str]] = {
        "plain_chat": ph(
            "plain",
            "{statement}\n\nHow much is this person like you, on a scale from 1 to 6?\n{scale}",
        ),
    }
    for p in survey.phrasings:
        out[p.id] = (p, p.assistant_prefix)
        out[f"{p.id}_noprefix"] = (p, "")
    out.update(
        {
            "first_person": ph(
                "f1",
                "Read the statement and say how well it describes you.\n\nStatement: "
                "{statement}\n\n{scale}\n\nAnswer with one digit.",
                "You are answering a personality survey about yourself.",
                "Rating: ",
            ),
            "reversed_scale": ph(
                "f2",
                'How much is this person like you?\n\n"{statement}"\n\n'
                + REVERSED_SCALE
                + "\n\nReply with the digit only.",
                None,
                "Answer: ",
            ),
            "few_shot": ph(
                "f3",
                "Examples of the answer format:\nDescription: This person collects stamps. -> 2\n"
                "Description: This person enjoys a quiet evening. -> 5\n\n"
                "Description: {statement} ->",
                "You rate how much described people are like you, from 1 (not like me at all) "
                "to 6 (very much like me). Use the whole scale.",
            ),
            "agree_scale": ph(
                "f4",
                "{statement}\n\nDo you share this attitude? 1 = not at all, 6 = completely.\n"
                "{scale}",
                None,
                "I would say ",
            ),
            "statement_last": ph(
                "f5",
                "Scale:\n{scale}\n\nHow much is the person described below like you?\n\n"
                "{statement}",
                "You are answering a personality survey about yourself. Answer with one digit "
                "from 1 to 6.",
                "Answer: ",
            ),
            "digit_first": ph(
                "f7",
                "Statement: {statement}\n\nScale:\n{scale}\n\nWhich number from 1 to 6 best "
                "says how much this person is like you?",
                "You answer survey questions with one digit.",
                "The number that fits best is ",
            ),
            "likert_paren": ph(
                "f8",
                '"{statement}"\n\n{scale}\n\nHow much like you is this person? Answer (1-6):',
                None,
                "(",
            ),
        }
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-value", type=int, default=4, help="items per value")
    parser.add_argument("--only", nargs="*", default=(), help="format names to run")
    parser.add_argument("--model", default=None, help="model folder (default: the default model)")
    args = parser.parse_args(argv)

    from agents.backends.transformers_backend import TransformersBackend
    from training.survey_io import load_survey

    backend = TransformersBackend(args.model, threads=1)
    survey = load_survey()
    items = [it for v in survey.values for it in survey.select(values=v)[: args.per_value]]
    chosen = {k: v for k, v in formats(survey).items() if not args.only or k in args.only}
    scores: dict[str, np.ndarray] = {}
    print(f"{len(items)} items; model {backend.model_name}")
    print("format | mass | rating | value means | sd | argmax counts 1..6 | s")
    for name, (phrasing, prefix) in chosen.items():
        start = time.perf_counter()
        rows = []
        for item in items:
            prompt = backend.chat_prompt(phrasing.messages(item), assistant_prefix=prefix)
            dist = backend.next_token_distribution(prompt, [str(r) for r in RATINGS])
            rows.append(
                (item.value, dist.mass, dist.expected_value(RATINGS), int(np.argmax(dist.probs)))
            )
        expected = np.array([r[2] for r in rows])
        scores[name] = expected
        by_value: dict[str, list[float]] = {}
        for value, _, e, _ in rows:
            by_value.setdefault(value, []).append(e)
        means = [float(np.mean(v)) for v in by_value.values()]
        argmax = np.bincount([r[3] for r in rows], minlength=6).tolist()
        print(
            f"{name} | {np.mean([r[1] for r in rows]):.3f} | {expected.mean():.2f} | "
            f"{min(means):.2f}-{max(means):.2f} | {np.std(means):.3f} | {argmax} | "
            f"{time.perf_counter() - start:.0f}",
            flush=True,
        )
    if len(scores) > 1:
        names = list(scores)
        corr = np.corrcoef([scores[n] for n in names])
        print("\nitem-score correlation between formats:")
        for i, n in enumerate(names):
            print(f"{n:24s} " + " ".join(f"{corr[i, j]:+.2f}" for j in range(len(names))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
