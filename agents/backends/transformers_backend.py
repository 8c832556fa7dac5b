"""The in-process backend: a transformers causal LM on the CPU, with an optional peft LoRA adapter.

Candidate scoring shares the prompt: one forward pass over the prompt fills its key/value cache,
which is then repeated for all K continuations and extended by one batched forward pass over the
continuation tokens (instead of K full passes over prompt + continuation). Several prompts that
start alike (one situation, its options listed in several orders) share their common start the
same way in :meth:`TransformersBackend.next_token_distributions`.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.backends.base import (
    AdapterError,
    ContinuationScore,
    Generation,
    Message,
    ModelBackend,
    TokenDistribution,
    single_token_ids,
    validate_generation,
    validate_messages,
)
from agents.models import resolve_model
from s2b_env.errors import require

#: Candidates scored per batched pass over one copy of the prompt's KV cache.
CANDIDATE_CHUNK = 16


class TransformersBackend(ModelBackend):
    """A causal LM loaded in this process.

    Args:
        model: A local model folder, a hub id present in the local cache, or ``None`` for the
            default model (see :mod:`agents.models`).
        adapter: A local peft LoRA adapter folder to apply, or ``None``.
        dtype: ``"float32"`` (default) or ``"bfloat16"``.
        threads: Torch CPU threads to use (``None``: torch's default).

    Raises:
        ModelNotFoundError: The model cannot be found.
        AdapterError: The adapter is missing, corrupt, or made for another base model.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        adapter: str | Path | None = None,
        dtype: str = "float32",
        threads: int | None = None,
    ) -> None:
        self.torch = require("torch", "llm", "The transformers backend")
        transformers = require("transformers", "llm", "The transformers backend")
        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        if threads is not None:
            self.torch.set_num_threads(threads)
        self.model_dir = resolve_model(None if model is None else str(model))
        torch_dtype = {"float32": self.torch.float32, "bfloat16": self.torch.bfloat16}.get(dtype)
        if torch_dtype is None:
            raise ValueError(f"dtype: expected 'float32' or 'bfloat16', got {dtype!r}")
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_dir)
        base = transformers.AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch_dtype)
        # transformers 5 renamed the forward's cache argument and output from past_key_values.
        params = inspect.signature(base.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self.adapter_dir: Path | None = None
        self.model: Any = base
        if adapter is not None:
            self.adapter_dir = Path(adapter).expanduser()
            self.model = _load_adapter(base, self.adapter_dir, self.model_dir)
        self.model.eval()
        self.model_name = str(self.model_dir) + (
            f" + adapter {self.adapter_dir}" if self.adapter_dir else ""
        )

    # -- text ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def chat_prompt(self, messages: Sequence[Message], *, assistant_prefix: str = "") -> str:
        checked = validate_messages(messages)
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"{self.model_dir} has no chat template; give a plain prompt instead")
        text = self.tokenizer.apply_chat_template(
            checked, tokenize=False, add_generation_prompt=True
        )
        return str(text) + assistant_prefix

    # -- scoring -------------------------------------------------------------------------------

    def _ids(self, prompt: str) -> list[int]:
        ids = self.tokenize(prompt)
        if not ids:
            raise ValueError("expected a non-empty prompt, got one with no tokens")
        return ids

    def next_token_logprobs(self, prompt: str) -> Any:
        """The full next-token log-probability vector after ``prompt`` (a torch tensor)."""
        torch = self.torch
        ids = torch.tensor([self._ids(prompt)])
        with torch.no_grad():
            logits = self.model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[0, -1]
        return torch.log_softmax(logits.float(), dim=-1)

    def next_token_distribution(self, prompt: str, tokens: Sequence[str]) -> TokenDistribution:
        token_ids = single_token_ids(self, tokens)
        logprobs = self.next_token_logprobs(prompt)
        return TokenDistribution(
            tokens=tuple(tokens),
            token_ids=tuple(token_ids),
            logprobs=tuple(float(logprobs[i]) for i in token_ids),
        )

    def next_token_distributions(
        self, prompts: Sequence[str], tokens: Sequence[str]
    ) -> list[TokenDistribution]:
        """Several prompts' next-token distributions, their common start run once.

        The prompts' longest common token prefix is run once; its KV cache is repeated for the
        prompts (in chunks of :data:`CANDIDATE_CHUNK`) and each prompt's rest runs in one batched,
        right-padded pass, read at its own last token.
        """
        torch = self.torch
        if len(prompts) <= 1:
            return [self.next_token_distribution(p, tokens) for p in prompts]
        token_ids = single_token_ids(self, tokens)
        ids = [self._ids(p) for p in prompts]
        shared = 0
        limit = min(len(i) for i in ids) - 1  # each prompt keeps at least one token of its own
        while shared < limit and all(i[shared] == ids[0][shared] for i in ids):
            shared += 1
        if shared == 0:
            return [self.next_token_distribution(p, tokens) for p in prompts]
        rests = [i[shared:] for i in ids]
        results: list[TokenDistribution] = []
        with torch.no_grad():
            out = self.model(input_ids=torch.tensor([ids[0][:shared]]), use_cache=True)
            prefix_cache = getattr(out, self._cache_kw)
            for start in range(0, len(rests), CANDIDATE_CHUNK):
                rows = rests[start : start + CANDIDATE_CHUNK]
                last = start + CANDIDATE_CHUNK >= len(rests)
                cache = prefix_cache if last else copy.deepcopy(prefix_cache)
                for logprobs in self._last_logprobs(cache, shared, rows):
                    results.append(
                        TokenDistribution(
                            tokens=tuple(tokens),
                            token_ids=tuple(token_ids),
                            logprobs=tuple(float(logprobs[i]) for i in token_ids),
                        )
                    )
        return results

    def _last_logprobs(self, cache: Any, n: int, rests: list[list[int]]) -> list[Any]:
        """Next-token log-probabilities after each of ``rests`` appended to a cached prefix."""
        torch = self.torch
        k, width = len(rests), max(len(r) for r in rests)
        pad = self.tokenizer.pad_token_id or 0
        batch = torch.tensor([r + [pad] * (width - len(r)) for r in rests])
        cache.batch_repeat_interleave(k)
        attention = torch.ones((k, n + width), dtype=torch.long)
        for row, r in enumerate(rests):
            attention[row, n + len(r) :] = 0
        positions = torch.arange(n, n + width).unsqueeze(0).expand(k, -1)
        step = self.model(
            input_ids=batch,
            **{self._cache_kw: cache},
            attention_mask=attention,
            position_ids=positions,
            use_cache=True,
        )
        return [torch.log_softmax(step.logits[row, len(r) - 1].float(), dim=-1)
                for row, r in enumerate(rests)]  # fmt: skip

    def score_continuations(
        self, prompt: str, continuations: Sequence[str]
    ) -> list[ContinuationScore]:
        """Score K continuations with one prompt pass whose KV cache all K share."""
        torch = self.torch
        if not continuations:
            return []
        prompt_ids = self._ids(prompt)
        cont_ids = [self.tokenize(c) for c in continuations]
        for text, ids in zip(continuations, cont_ids, strict=True):
            if not ids:
                raise ValueError(f"expected non-empty continuations, got {text!r}")
        n = len(prompt_ids)
        with torch.no_grad():
            # logits only for the last prompt position: the prompt's own tokens are not scored
            out = self.model(input_ids=torch.tensor([prompt_ids]), use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            scores: list[list[float]] = [[float(first[c[0]])] for c in cont_ids]
            longer = [row for row, c in enumerate(cont_ids) if len(c) > 1]
            prompt_cache = getattr(out, self._cache_kw)
            # The prompt's KV cache is repeated once per candidate: in chunks, so memory grows
            # with the chunk, not with K (64 candidates on a long prompt would take gigabytes).
            for start in range(0, len(longer), CANDIDATE_CHUNK):
                rows = longer[start : start + CANDIDATE_CHUNK]
                last = start + CANDIDATE_CHUNK >= len(longer)
                cache = prompt_cache if last else copy.deepcopy(prompt_cache)
                self._score_rest(cache, n, [cont_ids[r] for r in rows], [scores[r] for r in rows])
        return [
            ContinuationScore(text=t, token_ids=tuple(ids), token_logprobs=tuple(s))
            for t, ids, s in zip(continuations, cont_ids, scores, strict=True)
        ]

    def _score_rest(
        self, cache: Any, n: int, cont_ids: list[list[int]], scores: list[list[float]]
    ) -> None:
        """Append the log-probabilities of tokens 2.. of each continuation, one batched pass."""
        torch = self.torch
        k, width = len(cont_ids), max(len(c) for c in cont_ids)
        # Right-pad the continuations; causal attention keeps pads from affecting the real
        # tokens before them, and their outputs are ignored.
        pad = self.tokenizer.pad_token_id or 0
        batch = torch.tensor([c + [pad] * (width - len(c)) for c in cont_ids])
        cache.batch_repeat_interleave(k)
        attention = torch.ones((k, n + width), dtype=torch.long)
        positions = torch.arange(n, n + width).unsqueeze(0).expand(k, -1)
        step = self.model(
            input_ids=batch[:, :-1],
            **{self._cache_kw: cache},
            attention_mask=attention[:, :-1],
            position_ids=positions[:, :-1],
            use_cache=True,
        )
        logprobs = torch.log_softmax(step.logits.float(), dim=-1)
        for row, ids in enumerate(cont_ids):
            for j in range(1, len(ids)):
                scores[row].append(float(logprobs[row, j - 1, ids[j]]))

    def score_continuations_separately(
        self, prompt: str, continuations: Sequence[str]
    ) -> list[ContinuationScore]:
        """Reference scoring with one full forward pass per continuation (for checks/benchmarks)."""
        torch = self.torch
        prompt_ids = self._ids(prompt)
        results = []
        for text in continuations:
            ids = self.tokenize(text)
            if not ids:
                raise ValueError(f"expected non-empty continuations, got {text!r}")
            full = torch.tensor([prompt_ids + ids])
            with torch.no_grad():
                # logits only where the continuation is predicted (a fair reference)
                logits = self.model(
                    input_ids=full, use_cache=False, logits_to_keep=len(ids) + 1
                ).logits[0]
            logprobs = torch.log_softmax(logits[:-1].float(), dim=-1)
            token_lps = tuple(float(logprobs[j, t]) for j, t in enumerate(ids))
            results.append(
                ContinuationScore(text=text, token_ids=tuple(ids), token_logprobs=token_lps)
            )
        return results

    # -- generation ----------------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
    ) -> Generation:
        torch = self.torch
        validate_generation(max_new_tokens, temperature)
        ids = torch.tensor([self._ids(prompt)])
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": temperature > 0}
        if temperature > 0:
            kwargs["temperature"] = temperature
            kwargs["top_k"] = 0
            kwargs["top_p"] = 1.0
        if seed is not None:
            torch.manual_seed(seed)
        eos = self.tokenizer.eos_token_id
        with torch.no_grad():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                pad_token_id=self.tokenizer.pad_token_id
                if self.tokenizer.pad_token_id is not None
                else eos,
                **kwargs,
            )
        new = out[0, ids.shape[1] :].tolist()
        finish = "length"
        if eos is not None and eos in new:
            new = new[: new.index(eos)]
            finish = "stop"
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for s in stop:
            if s and s in text:
                text = text[: text.index(s)]
                finish = "stop"
        return Generation(text=text, token_ids=tuple(new), finish_reason=finish)

    def close(self) -> None:
        self.model = None


def _load_adapter(base: Any, adapter_dir: Path, model_dir: Path) -> Any:
    """Apply the peft LoRA adapter in ``adapter_dir`` to ``base`` with clear errors."""
    peft = require("peft", "llm", "LoRA adapters")
    config_path = adapter_dir / "adapter_config.json"
    if not adapter_dir.is_dir():
        raise AdapterError(f"--adapter {adapter_dir}: no such adapter folder")
    if not config_path.is_file():
        raise AdapterError(
            f"--adapter {adapter_dir}: expected a peft adapter folder with adapter_config.json, "
            "but there is none"
        )
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise AdapterError(f"{config_path}: not valid JSON ({exc})") from None
    named_base = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    try:
        return peft.PeftModel.from_pretrained(base, adapter_dir, is_trainable=False)
    except (RuntimeError, ValueError, KeyError) as exc:
        text = str(exc)
        if (
            "size mismatch" in text
            or "not found in the base model" in text
            or "Target modules" in text
        ):
            raise AdapterError(
                f"--adapter {adapter_dir}: this adapter was made for another base model "
                f"({named_base or 'unnamed'}), not for {model_dir}: its weights do not fit "
                f"({text.splitlines()[0][:300]})"
            ) from None
        raise AdapterError(
            f"--adapter {adapter_dir}: cannot load the adapter weights (corrupt or "
            f"incomplete file?): {type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"
        ) from None
    except Exception as exc:  # safetensors' own errors are not a stable type
        raise AdapterError(
            f"--adapter {adapter_dir}: cannot load the adapter weights (corrupt or incomplete "
            f"file?): {type(exc).__name__}: {str(exc)[:300]}"
        ) from None
