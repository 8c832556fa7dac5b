"""``--timeout`` bounds the whole reply of an OpenAI-compatible server: issue 22, item 4.

The server here is a tiny loopback HTTP server that drips its reply a byte at a time: a real vLLM
server cannot be made to do that on demand.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from rich.console import Console

from agents.backends.base import ServerTimeoutError
from s2b.cli import main

MODELS = json.dumps({"data": [{"id": "m"}]}).encode()


class _Drip(BaseHTTPRequestHandler):
    """Sends headers at once, then the body one byte every ``gap`` seconds (``drip`` paths)."""

    protocol_version = "HTTP/1.1"
    gap = 0.25
    drip: tuple[str, ...] = ()
    stop: threading.Event

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        if not any(self.path.endswith(p) for p in self.drip):
            self.wfile.write(body)
            return
        for byte in body:  # a well-formed reply, only very slow: 4 bytes a second
            if self.stop.wait(self.gap):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return

    def do_GET(self) -> None:
        self._reply(MODELS)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._reply(json.dumps({"tokens": list(range(40))}).encode())

    def log_message(self, *args: object) -> None:
        pass


def _serve(drip: tuple[str, ...]) -> Iterator[str]:
    stop = threading.Event()
    handler = type("Handler", (_Drip,), {"drip": drip, "stop": stop})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


@pytest.fixture
def drip_tokenize() -> Iterator[str]:
    """/v1/models answers at once; /tokenize drips (about 40 s for its whole body)."""
    yield from _serve(("/tokenize",))


@pytest.fixture
def drip_everything() -> Iterator[str]:
    yield from _serve(("/models", "/tokenize"))


def test_dripping_reply_is_cut_at_the_deadline(drip_tokenize: str) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(drip_tokenize, timeout=2, max_retries=0)
    try:
        start = time.monotonic()
        with pytest.raises(ServerTimeoutError, match="no reply within 2 s"):
            backend.tokenize("a longer text than the cache keeps" * 3)
        elapsed = time.monotonic() - start
        assert 1.9 < elapsed < 3.5, elapsed
    finally:
        backend.close()


def test_retries_each_get_the_deadline(drip_tokenize: str) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(drip_tokenize, timeout=1, max_retries=1, backoff=0.05)
    try:
        start = time.monotonic()
        with pytest.raises(ServerTimeoutError, match="after 2 attempt"):
            backend.tokenize("x" * 100)
        assert 1.9 < time.monotonic() - start < 4
    finally:
        backend.close()


def test_cli_timeout_bounds_the_whole_reply(drip_everything: str) -> None:
    """The issue's command: ``s2b run --backend openai --timeout 3 --max-retries 0``."""
    console = Console(file=StringIO(), width=300)
    start = time.monotonic()
    code = main(
        [
            "run", "--env", "s2b/judgment-v0", "--agent", "llm", "--backend", "openai",
            "--base-url", drip_everything, "--timeout", "3", "--max-retries", "0",
            "--episodes", "1", "--progress", "off",
        ],
        console=console,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert code == 2, out
    assert "no reply within 3 s" in out and elapsed < 8, (elapsed, out)
