"""``ValueJudge``: a language model scores an action's effect on the 20 values and on harm.

For one (context, action[, outcome]) the judge asks 22 questions (the 20 values, harm to others,
harm to self) whose prompts share everything but the question (see :mod:`agents.judge.prompts`).
Each answer is read from the next-token probabilities of its label tokens: a value's score is the
expected rating in -3..+3, a harm score the probability of ``Yes``. Nothing is parsed from
generated text.

* In process (:class:`~agents.backends.transformers_backend.TransformersBackend`): the shared
  prefix runs once, its KV cache is repeated for the 22 question tails, which run as one batched
  pass (:meth:`ValueJudge.score_many`); :meth:`ValueJudge.score_separately` is the reference with
  one full pass per question (benchmark P8 checks both agree within 1e-4).
* Any other backend (the vLLM server): 22 full prompts through
  :meth:`~agents.backends.base.ModelBackend.next_token_distributions`, which the HTTP backend
  answers with generation logprobs (``max_tokens=1``), so vLLM's prefix cache shares the prefix.

Scores are cached by (judge, prompt version, context, action, outcome) in memory and, with a
cache file, on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.backends.base import BackendError, ModelBackend, TokenDistribution, single_token_ids
from agents.judge.cache import ScoreCache, cache_key
from agents.judge.prompts import (
    DEFAULT_FORMAT,
    HARM_KEYS,
    PromptFormat,
    Question,
    get_format,
    split_template,
    template_marker,
)
from s2b_env.values import VALUE_IDS, ValueVector

#: Question tails scored per batched pass over one copy of the prefix's KV cache.
TAIL_CHUNK = 11


class LabelTokenError(BackendError, ValueError):
    """A label token of the judge's prompts is not one token of the model's vocabulary."""


@dataclass(frozen=True)
class JudgeInput:
    """What the judge looks at: the situation before the action, the action, its outcome.

    Attributes:
        context: The recent observation (what the actor saw before acting).
        action: The action taken.
        outcome: What happened after it (the next observation), when known.
    """

    context: str
    action: str
    outcome: str | None = None


@dataclass(frozen=True)
class JudgeScore:
    """One action judged.

    Attributes:
        values: The expected effect on each of the 20 values, each in -3..+3.
        harm_others: The probability that the action harms another person or creature.
        harm_self: The probability that it harms the actor.
        judge: The judge's id (model, adapter).
        prompt_version: The prompt format's version.
        label_mass: The smallest raw probability mass the model put on the label tokens of any
            question (a small mass means it mostly wanted to answer something else).
    """

    values: ValueVector
    harm_others: float
    harm_self: float
    judge: str
    prompt_version: str
    label_mass: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (read back by :meth:`from_dict`)."""
        return {
            "values": self.values.to_dict(),
            "harm_others": self.harm_others,
            "harm_self": self.harm_self,
            "judge": self.judge,
            "prompt_version": self.prompt_version,
            "label_mass": self.label_mass,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JudgeScore:
        """Read back :meth:`to_dict`'s form."""
        return cls(
            values=ValueVector.from_dict(data["values"]),
            harm_others=float(data["harm_others"]),
            harm_self=float(data["harm_self"]),
            judge=str(data["judge"]),
            prompt_version=str(data["prompt_version"]),
            label_mass=float(data.get("label_mass", 1.0)),
        )

    def as_scores(self) -> dict[str, float]:
        """``{value_id: effect, ..., "harm_others": p, "harm_self": p}`` (for env wrappers)."""
        return {**self.values.to_dict(), "harm_others": self.harm_others,
                "harm_self": self.harm_self}  # fmt: skip


class ValueJudge:
    """Scores actions for the 20 values and harm through any :class:`ModelBackend`.

    Args:
        backend: The model (in process, or a server through the HTTP backend).
        prompt_format: The prompt format's version (see :data:`agents.judge.prompts.FORMATS`).
        cache: A :class:`ScoreCache`, a cache file path, or ``None`` for an in-memory cache.
        name: The judge's id in cache keys and records (default: from the model and adapter).
        shared_prefix: In process, run the shared prefix once per action (``False``: one full
            pass per question, the reference).

    Raises:
        LabelTokenError: A label token is not one token of the model's vocabulary.
    """

    def __init__(
        self,
        backend: ModelBackend,
        *,
        prompt_format: str = DEFAULT_FORMAT,
        cache: ScoreCache | str | Path | None = None,
        name: str | None = None,
        shared_prefix: bool = True,
    ) -> None:
        self.backend = backend
        self.format: PromptFormat = get_format(prompt_format)
        self.questions: tuple[Question, ...] = self.format.questions()
        self.cache = cache if isinstance(cache, ScoreCache) else ScoreCache(cache)
        self.name = name or judge_id(backend)
        self.shared_prefix = shared_prefix
        self._label_ids: dict[tuple[str, ...], list[int]] = {}
        for question in self.questions:
            if question.tokens not in self._label_ids:
                try:
                    self._label_ids[question.tokens] = single_token_ids(backend, question.tokens)
                except ValueError as exc:
                    raise LabelTokenError(
                        f"judge prompt {self.format.version}: a label token is missing from "
                        f"the model's vocabulary ({exc}); use a model whose tokenizer has the "
                        "digits 1-7 and Yes/No as single tokens"
                    ) from None
        self._template: tuple[str, str] | None = None
        self._head: tuple[list[int], Any] | None = None

    @property
    def prompt_version(self) -> str:
        """The prompt format's version (recorded with every score)."""
        return self.format.version

    # -- prompts -------------------------------------------------------------------------------

    def template(self) -> tuple[str, str]:
        """The chat template's text before and after the user turn's content (rendered once)."""
        if self._template is None:
            rendered = self.backend.chat_prompt(
                [
                    {"role": "system", "content": self.format.system},
                    {"role": "user", "content": template_marker()},
                ]
            )
            self._template = split_template(rendered)
        return self._template

    def prompts(self, item: JudgeInput) -> list[str]:
        """The full prompt of each question for ``item`` (values first, then harm)."""
        head, tail = self.template()
        body = head + self.format.body(item.context, item.action, item.outcome)
        return [f"{body}\n{q.text}{tail}{q.answer_prefix}" for q in self.questions]

    def key(self, item: JudgeInput) -> str:
        """The cache key of ``item`` for this judge and prompt version."""
        return cache_key(self.name, self.prompt_version, item.context, item.action, item.outcome)

    # -- scoring -------------------------------------------------------------------------------

    def score(self, context: str, action: str, outcome: str | None = None) -> JudgeScore:
        """Judge one action (see :meth:`score_many`)."""
        return self.score_many([JudgeInput(context, action, outcome)])[0]

    def score_many(self, items: Sequence[JudgeInput]) -> list[JudgeScore]:
        """Judge several actions; cached ones cost nothing, repeated ones are scored once."""
        keys = [self.key(item) for item in items]
        found: dict[str, JudgeScore] = {}
        todo: dict[str, JudgeInput] = {}
        for key, item in zip(keys, items, strict=True):
            if key in found or key in todo:
                continue
            cached = self.cache.get(key)
            if cached is not None:
                found[key] = JudgeScore.from_dict(cached)
            else:
                todo[key] = item
        if todo:
            fresh = self._score_fresh(list(todo.values()))
            for key, score in zip(todo, fresh, strict=True):
                self.cache.put(key, score.to_dict())
                found[key] = score
        return [found[key] for key in keys]

    def score_separately(self, item: JudgeInput) -> JudgeScore:
        """The reference: every question as its own full prompt, one full pass each."""
        distributions = [
            self.backend.next_token_distribution(prompt, q.tokens)
            for prompt, q in zip(self.prompts(item), self.questions, strict=True)
        ]
        return self._combine(distributions)

    def score_question(self, item: JudgeInput, key: str) -> float:
        """One question's answer alone (a value's expected effect or a harm probability): one
        full prompt, not cached (for validations that need only this number)."""
        for question, prompt in zip(self.questions, self.prompts(item), strict=True):
            if question.key == key:
                dist = self.backend.next_token_distribution(prompt, question.tokens)
                return dist.expected_value(question.values)
        raise ValueError(f"unknown judge question {key!r}; expected a value id or {HARM_KEYS}")

    def scorer(self) -> Callable[[str, str, str | None], dict[str, float]]:
        """A callable ``(context, action, outcome) -> {value_id: effect, harm_others: p, ...}``
        for :class:`s2b_env.wrappers.value_scores.ValueScoresWrapper`."""

        def score(context: str, action: str, outcome: str | None = None) -> dict[str, float]:
            return self.score(context, action, outcome).as_scores()

        return score

    def _score_fresh(self, items: list[JudgeInput]) -> list[JudgeScore]:
        if self.shared_prefix and _in_process(self.backend):
            return [self._combine(self._shared_prefix_distributions(item)) for item in items]
        if not self.shared_prefix:
            return [self.score_separately(item) for item in items]
        # Any other backend: every prompt of every item at once, grouped by label tokens (the
        # HTTP backend keeps `concurrency` requests in flight; vLLM's prefix cache shares prefixes).
        n = len(self.questions)
        prompts = [self.prompts(item) for item in items]
        out: list[list[TokenDistribution | None]] = [[None] * n for _ in items]
        for tokens in self._label_ids:
            cells = [(i, j) for i in range(len(items)) for j in range(n)
                     if self.questions[j].tokens == tokens]  # fmt: skip
            dists = self.backend.next_token_distributions([prompts[i][j] for i, j in cells], tokens)
            for (i, j), dist in zip(cells, dists, strict=True):
                out[i][j] = dist
        return [self._combine([d for d in row if d is not None]) for row in out]

    def _combine(self, distributions: Sequence[TokenDistribution]) -> JudgeScore:
        if len(distributions) != len(self.questions):
            raise BackendError(
                f"expected {len(self.questions)} answers from {self.backend.model_name}, got "
                f"{len(distributions)}"
            )
        by_key = {
            q.key: d.expected_value(q.values)
            for q, d in zip(self.questions, distributions, strict=True)
        }
        return JudgeScore(
            values=ValueVector([by_key[v] for v in VALUE_IDS]),
            harm_others=by_key[HARM_KEYS[0]],
            harm_self=by_key[HARM_KEYS[1]],
            judge=self.name,
            prompt_version=self.prompt_version,
            label_mass=min(d.mass for d in distributions),
        )

    def _shared_prefix_distributions(self, item: JudgeInput) -> list[TokenDistribution]:
        """In process: the common prefix once, then the question tails in batched passes."""
        backend: Any = self.backend
        torch = backend.torch
        full = [backend.tokenize(p) for p in self.prompts(item)]
        n = _common_prefix_length(full)
        tails = [ids[n:] for ids in full]
        logprob_rows: list[Any] = [None] * len(full)
        with torch.no_grad():
            prefix_cache = self._prefix_cache(full[0][:n])
            for start in range(0, len(tails), TAIL_CHUNK):
                rows = list(range(start, min(start + TAIL_CHUNK, len(tails))))
                last = start + TAIL_CHUNK >= len(tails)
                cache = prefix_cache if last else _copy(prefix_cache)
                width = max(len(tails[r]) for r in rows)
                pad = backend.tokenizer.pad_token_id or 0
                batch = torch.tensor([tails[r] + [pad] * (width - len(tails[r])) for r in rows])
                cache.batch_repeat_interleave(len(rows))
                step = backend.model(
                    input_ids=batch,
                    **{backend._cache_kw: cache},
                    attention_mask=torch.ones((len(rows), n + width), dtype=torch.long),
                    position_ids=torch.arange(n, n + width).unsqueeze(0).expand(len(rows), -1),
                    use_cache=True,
                )
                for k, r in enumerate(rows):
                    logits = step.logits[k, len(tails[r]) - 1].float()
                    logprob_rows[r] = torch.log_softmax(logits, dim=-1)
        dists = []
        for q, logprobs in zip(self.questions, logprob_rows, strict=True):
            ids = self._label_ids[q.tokens]
            dists.append(TokenDistribution(q.tokens, tuple(ids),
                                           tuple(float(logprobs[i]) for i in ids)))  # fmt: skip
        return dists

    def _prefix_cache(self, ids: list[int]) -> Any:
        """The KV cache of ``ids``: the chat template's head (the same for every action) is run
        once per judge and copied; only the rest runs here."""
        backend: Any = self.backend
        torch = backend.torch
        if self._head is None:
            head_ids = backend.tokenize(self.template()[0])
            out = backend.model(input_ids=torch.tensor([head_ids]), use_cache=True,
                                logits_to_keep=1)  # fmt: skip
            self._head = (head_ids, getattr(out, backend._cache_kw))
        head_ids, head_cache = self._head
        h = len(head_ids)
        if len(ids) > h and ids[:h] == head_ids:
            cache = _copy(head_cache)
            backend.model(
                input_ids=torch.tensor([ids[h:]]),
                **{backend._cache_kw: cache},
                attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                position_ids=torch.arange(h, len(ids)).unsqueeze(0),
                use_cache=True,
                logits_to_keep=1,
            )
            return cache
        # the head tokenized differently inside the prompt: run the whole prefix
        out = backend.model(input_ids=torch.tensor([ids]), use_cache=True, logits_to_keep=1)
        return getattr(out, backend._cache_kw)

    def close(self) -> None:
        """Close the cache file (the backend is the caller's to close)."""
        self.cache.close()


def _in_process(backend: ModelBackend) -> bool:
    from agents.backends.transformers_backend import TransformersBackend

    return isinstance(backend, TransformersBackend)


def _copy(cache: Any) -> Any:
    import copy

    return copy.deepcopy(cache)


def _common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """The length of the longest common prefix, leaving each sequence at least one token."""
    limit = min(len(s) for s in sequences) - 1
    n = 0
    first = sequences[0]
    while n < limit and all(s[n] == first[n] for s in sequences):
        n += 1
    if n == 0:
        raise ValueError("the judge's prompts share no prefix; expected a common chat template")
    return n


def judge_id(backend: ModelBackend) -> str:
    """A judge's default id: the model's name plus its adapter (a folder's weights by sha256).

    The in-process backend and a vLLM server serving the same model folder get the same id (the
    server's default served name is the folder's name), so their scores share a cache.
    """
    model_dir = getattr(backend, "model_dir", None)
    if model_dir is not None:
        name = Path(model_dir).name
        adapter = getattr(backend, "adapter_dir", None)
        if adapter is not None:
            name += f"+{Path(adapter).name}@{_adapter_digest(Path(adapter))}"
        return name
    base = getattr(backend, "base_model", None) or backend.model_name
    adapter_name = getattr(backend, "adapter", None)
    return f"{base}+{adapter_name}" if adapter_name else str(base)


def _adapter_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for weights in sorted(path.glob("adapter_model.*")):
        digest.update(weights.read_bytes())
    return digest.hexdigest()[:12]
