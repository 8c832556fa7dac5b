"""Verdicts on everyday-conflict accounts, and reading them from free text.

The four verdicts are the ones used by the "Am I the asshole?" convention: ``YTA`` (the narrator is
in the wrong), ``NTA`` (the other side is), ``ESH`` (both are) and ``NAH`` (nobody is).
"""

from __future__ import annotations

import re

VERDICTS: tuple[str, ...] = ("YTA", "NTA", "ESH", "NAH")
VERDICT_MEANINGS: dict[str, str] = {
    "YTA": "you're the asshole: the narrator is in the wrong",
    "NTA": "not the asshole: the other side is in the wrong, not the narrator",
    "ESH": "everyone sucks here: both sides are in the wrong",
    "NAH": "no assholes here: nobody is in the wrong",
}

# --- reading verdicts from free text ---------------------------------------------------------

_HOLE_WORD = r"a(?:ss|rse|-|\*+|\s)?-?hole|ah|jerk|bad guy|villain"
_HOLE = f"(?:{_HOLE_WORD})"
_VERDICT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("NTA", rf"\bntah?\b|\bnot (?:the|an?) {_HOLE}|\bnot (?:in the )?wrong\b"),
    ("NAH", rf"\bnah\b|\bno {_HOLE}s? here\b|\bno(?:body|one|\s+one)(?:'s| is)? (?:the |an? )?{_HOLE}"
     r"|\bno(?:body|\s+one)(?:'s| is) (?:in the )?wrong\b"),
    ("ESH", rf"\besh\b|\bevery(?:one|body) sucks\b|\b(?:everyone|everybody|both)(?:'s| is| are)?"
     rf" (?:in the )?wrong\b|\bboth (?:of you |sides )?(?:are |were )?{_HOLE}s\b"),
    ("YTA", rf"\byta\b|\byou(?:'re| are| were)? (?:the |an? ){_HOLE}|\b(?:the )?(?:narrator|author|op)"
     rf" (?:is|was) (?:the |an? )?(?:{_HOLE_WORD}|in the wrong)|\byou(?:'re| are| were)"
     rf" (?:in the )?wrong\b|^(?:{_HOLE_WORD})$"),
)  # fmt: skip
_VERDICT_RES = tuple((v, re.compile(p)) for v, p in _VERDICT_PATTERNS)


def parse_verdict(text: str) -> str | None:
    """Map free text to a verdict code, leniently; ``None`` when no verdict is recognised.

    Accepts the codes (``"nta"``, ``"YTA."``), the numbers 1-4 in :data:`VERDICTS` order, and
    phrases (``"Not the a-hole"``, ``"you're the asshole"``, ``"everyone sucks here"``,
    ``"no assholes here"``, ``"you are in the wrong"``). In a longer answer the verdict mentioned
    first wins, so ``"NTA. Your sister is not wrong either"`` is ``NTA``.

    Args:
        text: What a person or model answered.

    Returns:
        One of :data:`VERDICTS`, or ``None``.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected the answer as str, got {type(text).__name__}")
    norm = " ".join(text.lower().replace("\u2019", "'").split())
    norm = norm.strip(" .!?:;,'\"()[]*_`")
    if norm in {"1", "2", "3", "4"}:
        return VERDICTS[int(norm) - 1]
    best: tuple[int, str] | None = None
    for verdict, regex in _VERDICT_RES:
        match = regex.search(norm)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), verdict)
    return best[1] if best else None
