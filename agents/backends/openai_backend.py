"""The HTTP backend: an OpenAI-compatible server such as vLLM's (``s2b serve``).

It uses the completions endpoint with token-id prompts, so it scores exactly the tokens the
in-process backend scores:

* next-token distributions: one request with ``logprobs=20`` (top-20 raw log-probabilities of the
  next token); tokens asked about that are not in the top 20 are scored by a second request with
  the candidates appended and ``prompt_logprobs=0`` (vLLM's extension), which gives their exact
  log-probabilities;
* continuation log-probabilities: ``prompt_logprobs`` over prompt + continuation (one batched
  request for all K continuations);
* chat templates: the server's ``/tokenize`` (with ``messages``) and ``/detokenize``;
* generation: ``/v1/completions`` (plain prompts) and ``/v1/chat/completions`` (chat).

A LoRA adapter is chosen by its name on the server (the request's ``model`` field). Every request
has a timeout; connection failures, timeouts and 5xx/429 replies are retried a bounded number of
times with exponential backoff; 4xx refusals are not retried. All failures raise
:class:`~agents.backends.base.ServerError` (or :class:`~agents.backends.base.ServerTimeoutError`)
with the URL and the server's own message.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.backends.base import (
    AdapterError,
    ContinuationScore,
    Generation,
    Message,
    ModelBackend,
    ServerError,
    ServerTimeoutError,
    TokenDistribution,
    single_token_ids,
    validate_generation,
    validate_messages,
)
from agents.backends.http_util import Cutoff, DeadlineExceeded, TokenLRU
from s2b_env.errors import require

TOP_LOGPROBS = 20  # vLLM's default --max-logprobs


#: Texts up to this many characters have their token ids cached (answers, game commands).
SHORT_TEXT_CHARS = 64
#: How many short texts' ids are kept.
TOKEN_CACHE_SIZE = 4096
#: How many chat prompts' ids are kept (the prompts this backend built most recently).
PROMPT_CACHE_SIZE = 16


class MalformedReplyError(ServerError, ValueError):
    """The server answered, but not with what the OpenAI/vLLM API promises."""


class OpenAIBackend(ModelBackend):
    """A model served by an OpenAI-compatible HTTP server.

    Args:
        base_url: The API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: The served base model's name; ``None`` takes the server's first model.
        adapter: The name of a LoRA adapter served next to the base model, or ``None``.
        timeout: Seconds one attempt may take, from sending the request to the reply's last byte.
        max_retries: How often a failed or timed-out request is retried (with backoff).
        concurrency: Requests in flight at once for batched calls.
        backoff: Seconds before the first retry; doubles each retry.
        api_key: Sent as ``Authorization: Bearer KEY`` (see ``s2b serve --api-key``); ``None``:
            the ``S2B_API_KEY`` setting, if set.

    Raises:
        ServerError: The server cannot be reached, or does not serve ``model``.
        AdapterError: The server does not serve ``adapter``.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        *,
        model: str | None = None,
        adapter: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        concurrency: int = 4,
        backoff: float = 0.5,
        api_key: str | None = None,
    ) -> None:
        httpx = require("httpx", "serve", "The OpenAI-compatible HTTP backend")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url: expected an http(s):// URL, got {base_url!r}")
        if timeout <= 0 or max_retries < 0 or concurrency < 1 or backoff < 0:
            raise ValueError(
                "expected timeout > 0, max_retries >= 0, concurrency >= 1, backoff >= 0, got "
                f"{timeout}, {max_retries}, {concurrency}, {backoff}"
            )
        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        # /tokenize and /detokenize live at the server root, next to /v1.
        self.root_url = (
            self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.backoff = backoff
        # Token ids of short texts (answer tokens, game commands: asked for again and again) and
        # of the chat prompts this backend built (so scoring does not tokenize them once more).
        self._tokens: TokenLRU = TokenLRU(TOKEN_CACHE_SIZE)
        self._prompts: TokenLRU = TokenLRU(PROMPT_CACHE_SIZE)
        if api_key is None:
            api_key = os.environ.get("S2B_API_KEY") or None
        if api_key is not None and not api_key.strip():
            raise ValueError("api_key: expected a non-empty key, got an empty one")
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=concurrency + 2),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
        )
        try:
            served = self.list_models()
            if model is None:
                if not served:
                    raise ServerError(f"{self.base_url}/models lists no model")
                model = served[0]
            elif model not in served:
                raise ServerError(
                    f"the server at {self.base_url} does not serve model {model!r}; it serves "
                    f"{served}"
                )
            if adapter is not None and adapter not in served:
                raise AdapterError(
                    f"--adapter {adapter}: the server at {self.base_url} has no adapter of that "
                    f"name; it serves {served} (start it with `s2b serve --adapter "
                    f"{adapter}=PATH`)"
                )
        except BaseException:
            self._client.close()
            raise
        self.base_model = model
        self.adapter = adapter
        self.served_name = adapter or model
        self.model_name = f"{self.base_url} {model}" + (f" + adapter {adapter}" if adapter else "")

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, method: str, url: str, payload: dict[str, Any] | None = None) -> Any:
        """One request with bounded retries; returns the decoded JSON reply.

        Each attempt has :attr:`timeout` seconds for the whole reply, from sending the request to
        its last byte: a server that answers slowly (a byte at a time) is cut off at the deadline
        like one that does not answer at all.
        """
        httpx = self._httpx
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                reply = self._send(method, url, payload)
            except (httpx.TimeoutException, DeadlineExceeded) as exc:
                last = ServerTimeoutError(
                    f"{method} {url}: no reply within {self.timeout:g} s (the whole reply, "
                    f"after {attempt + 1} attempt(s)); is the server overloaded or stuck? "
                    "Raise --timeout or check the server"
                )
                last.__cause__ = exc
                continue
            except httpx.TransportError as exc:
                last = ServerError(
                    f"{method} {url}: cannot reach the server ({type(exc).__name__}: {exc}) "
                    f"after {attempt + 1} attempt(s); is it running? Start one with `s2b serve`"
                )
                continue
            if reply.status_code == 401:
                raise ServerError(
                    f"{method} {url}: the server wants an API key (401): "
                    f"{_server_message(reply)} (fix: pass the server's key with --api-key or "
                    "the S2B_API_KEY setting)"
                )
            if reply.status_code == 429 or reply.status_code >= 500:
                last = ServerError(
                    f"{method} {url}: server error {reply.status_code} after {attempt + 1} "
                    f"attempt(s): {_server_message(reply)}"
                )
                continue
            if reply.status_code >= 400:
                raise ServerError(
                    f"{method} {url}: the server refused the request ({reply.status_code}): "
                    f"{_server_message(reply)}"
                )
            try:
                return reply.json()
            except ValueError:
                raise MalformedReplyError(
                    f"{method} {url}: expected a JSON reply, got {reply.text[:200]!r}"
                ) from None
        raise last or ServerError(f"{method} {url}: no attempt made")

    def _send(self, method: str, url: str, payload: dict[str, Any] | None) -> Any:
        """Send one request and read the whole reply by a deadline :attr:`timeout` s away.

        The reply's body is read chunk by chunk, checking the deadline after each; a read that
        blocks past the deadline is cut by shutting the connection's socket down from a timer
        (httpx's own timeouts are per read, so a server dripping a byte at a time never trips
        them).

        Raises:
            DeadlineExceeded: The reply was not complete by the deadline.
            httpx.TimeoutException, httpx.TransportError: As httpx raises them.
        """
        httpx = self._httpx
        deadline = time.monotonic() + self.timeout
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        with self._client.stream(method, url, json=payload, timeout=timeout) as reply:
            cutoff = Cutoff(reply, deadline)
            chunks: list[bytes] = []
            try:
                for chunk in reply.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise DeadlineExceeded(f"{len(b''.join(chunks))} bytes by the deadline")
            except httpx.TransportError:
                if cutoff.fired or time.monotonic() > deadline:
                    raise DeadlineExceeded("the reply was cut at the deadline") from None
                raise
            finally:
                cutoff.cancel()
        return httpx.Response(
            reply.status_code, headers=reply.headers, content=b"".join(chunks),
            request=reply.request,
        )  # fmt: skip

    def _post(self, path: str, payload: dict[str, Any], *, root: bool = False) -> Any:
        return self._request("POST", (self.root_url if root else self.base_url) + path, payload)

    def list_models(self) -> list[str]:
        """The names the server serves (base models and adapters)."""
        reply = self._request("GET", self.base_url + "/models")
        try:
            return [str(entry["id"]) for entry in reply["data"]]
        except (KeyError, TypeError) as exc:
            raise MalformedReplyError(
                f"GET {self.base_url}/models: expected {{'data': [{{'id': ...}}]}}, got "
                f"{str(reply)[:200]} ({exc!r})"
            ) from None

    # -- text ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        cached = self._tokens.get(text)
        if cached is not None:
            return list(cached)
        reply = self._post(
            "/tokenize",
            {"model": self.served_name, "prompt": text, "add_special_tokens": False},
            root=True,
        )
        ids = _int_list(_get(reply, "tokens", "/tokenize"), "/tokenize tokens")
        if len(text) <= SHORT_TEXT_CHARS:
            self._tokens.put(text, tuple(ids))
        return ids

    def _tokenize_all(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`tokenize` for each text; the ones not cached, ``concurrency`` at a time."""
        missing = list(dict.fromkeys(t for t in texts if self._tokens.get(t) is None))
        fresh: dict[str, list[int]] = {}
        if len(missing) > 1 and self.concurrency > 1:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                fresh = dict(zip(missing, pool.map(self.tokenize, missing), strict=True))
        return [fresh[t] if t in fresh else self.tokenize(t) for t in texts]

    def chat_prompt(self, messages: Sequence[Message], *, assistant_prefix: str = "") -> str:
        checked = validate_messages(messages)
        reply = self._post(
            "/tokenize",
            {"model": self.served_name, "messages": checked, "add_generation_prompt": True},
            root=True,
        )
        ids = _int_list(_get(reply, "tokens", "/tokenize"), "/tokenize tokens")
        text = self._post("/detokenize", {"model": self.served_name, "tokens": ids}, root=True)
        prompt = _get(text, "prompt", "/detokenize")
        if not isinstance(prompt, str):
            raise MalformedReplyError(f"/detokenize: expected a string prompt, got {prompt!r}")
        if not assistant_prefix:
            # scoring this prompt uses the template's own ids, not a tokenization of its text
            self._prompts.put(prompt, tuple(ids))
        return prompt + assistant_prefix

    # -- scoring -------------------------------------------------------------------------------

    def _prompt_ids(self, prompt: str) -> list[int]:
        cached = self._prompts.get(prompt)
        ids = list(cached) if cached is not None else self.tokenize(prompt)
        if not ids:
            raise ValueError("expected a non-empty prompt, got one with no tokens")
        return ids

    def _completion(self, prompt: list[int] | list[list[int]], **params: Any) -> list[dict]:
        payload = {
            "model": self.served_name,
            "prompt": prompt,
            "max_tokens": 1,
            "temperature": 0.0,
            **params,
        }
        reply = self._post("/completions", payload)
        choices = _get(reply, "choices", "/completions")
        expected = len(prompt) if prompt and isinstance(prompt[0], list) else 1
        if not isinstance(choices, list) or len(choices) != expected:
            raise MalformedReplyError(
                f"/completions: expected {expected} choice(s), got {str(choices)[:200]}"
            )
        return sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)

    def _appended_logprobs(self, ids: list[int], extra: list[list[int]]) -> list[list[float]]:
        """Log-probabilities of each extra token sequence appended to ``ids`` (one request)."""
        choices = self._completion([ids + e for e in extra], prompt_logprobs=0)
        out = []
        for choice, tokens in zip(choices, extra, strict=True):
            positions = choice.get("prompt_logprobs") if isinstance(choice, dict) else None
            if not isinstance(positions, list) or len(positions) != len(ids) + len(tokens):
                raise MalformedReplyError(
                    "/completions: expected prompt_logprobs for every prompt token, got "
                    f"{str(positions)[:200]}"
                )
            lps = []
            for offset, token in enumerate(tokens):
                entry = positions[len(ids) + offset]
                try:
                    lps.append(float(entry[str(token)]["logprob"]))
                except (KeyError, TypeError, ValueError):
                    raise MalformedReplyError(
                        f"/completions: prompt_logprobs lack token {token}: {str(entry)[:200]}"
                    ) from None
            out.append(lps)
        return out

    def next_token_distribution(self, prompt: str, tokens: Sequence[str]) -> TokenDistribution:
        token_ids = single_token_ids(self, tokens)
        ids = self._prompt_ids(prompt)
        (choice,) = self._completion(ids, logprobs=TOP_LOGPROBS, return_tokens_as_token_ids=True)
        try:
            top = choice["logprobs"]["top_logprobs"][0]
            found = {int(key.split(":", 1)[1]): float(v) for key, v in top.items()}
        except (KeyError, TypeError, IndexError, ValueError):
            raise MalformedReplyError(
                f"/completions: expected logprobs.top_logprobs[0] as {{'token_id:N': logprob}}, "
                f"got {str(choice)[:300]}"
            ) from None
        missing = [t for t in token_ids if t not in found]
        if missing:
            for token, lps in zip(
                missing, self._appended_logprobs(ids, [[t] for t in missing]), strict=True
            ):
                found[token] = lps[0]
        logprobs = tuple(found[t] for t in token_ids)
        if not all(math.isfinite(lp) or lp == -math.inf for lp in logprobs):
            raise MalformedReplyError(f"/completions: log-probabilities not numbers: {logprobs}")
        return TokenDistribution(tuple(tokens), tuple(token_ids), logprobs)

    def next_token_distributions(
        self, prompts: Sequence[str], tokens: Sequence[str]
    ) -> list[TokenDistribution]:
        """Several prompts, ``concurrency`` requests in flight at once (results in order)."""
        if len(prompts) <= 1 or self.concurrency == 1:
            return super().next_token_distributions(prompts, tokens)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self.next_token_distribution(p, tokens), prompts))

    def score_continuations(
        self, prompt: str, continuations: Sequence[str]
    ) -> list[ContinuationScore]:
        if not continuations:
            return []
        ids = self._prompt_ids(prompt)
        cont_ids = self._tokenize_all(continuations)
        for text, c in zip(continuations, cont_ids, strict=True):
            if not c:
                raise ValueError(f"expected non-empty continuations, got {text!r}")
        scores = self._appended_logprobs(ids, cont_ids)
        return [
            ContinuationScore(text=t, token_ids=tuple(c), token_logprobs=tuple(s))
            for t, c, s in zip(continuations, cont_ids, scores, strict=True)
        ]

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
        validate_generation(max_new_tokens, temperature)
        params: dict[str, Any] = {"max_tokens": max_new_tokens, "temperature": temperature}
        if stop:
            params["stop"] = list(stop)
        if seed is not None:
            params["seed"] = seed
        (choice,) = self._completion(self._prompt_ids(prompt), **params)
        return _generation(choice, "text", "/completions")

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Generation:
        validate_generation(max_new_tokens, temperature)
        payload: dict[str, Any] = {
            "model": self.served_name,
            "messages": validate_messages(messages),
            "max_tokens": max_new_tokens,
            "temperature": temperature,
        }
        if seed is not None:
            payload["seed"] = seed
        reply = self._post("/chat/completions", payload)
        choices = _get(reply, "choices", "/chat/completions")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedReplyError(f"/chat/completions: no choices in {str(reply)[:200]}")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise MalformedReplyError(f"/chat/completions: no message in {str(choices[0])[:200]}")
        return _generation(
            {**choices[0], "text": message.get("content")}, "text", "/chat/completions"
        )

    def close(self) -> None:
        self._client.close()


def _server_message(reply: Any) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:300] or reply.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:300]
        if isinstance(body.get("detail"), str):
            return body["detail"][:300]
    return str(body)[:300]


def _get(reply: Any, key: str, where: str) -> Any:
    if not isinstance(reply, dict) or key not in reply:
        raise MalformedReplyError(
            f"{where}: expected a JSON object with {key!r}, got {str(reply)[:200]}"
        )
    return reply[key]


def _int_list(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise MalformedReplyError(f"{where}: expected a list of token ids, got {str(value)[:200]}")
    return value


def _generation(choice: Any, key: str, where: str) -> Generation:
    text = choice.get(key) if isinstance(choice, dict) else None
    if not isinstance(text, str):
        raise MalformedReplyError(f"{where}: expected generated text, got {str(choice)[:200]}")
    finish = choice.get("finish_reason") or "stop"
    return Generation(text=text, finish_reason="length" if finish == "length" else "stop")
