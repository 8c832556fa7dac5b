"""The client side of the API key: ``--api-key`` / ``S2B_API_KEY`` sent by the ``openai``
backend, never written to a run: issue 22, item 9 (the real vLLM server's side is in
test_serve_security.py). A loopback server that checks the bearer token stands in here, since
only the headers matter."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from rich.console import Console

from s2b.cli import main

KEY = "client-key-0123456789"


class _Keyed(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        ok = self.headers.get("Authorization") == f"Bearer {KEY}"
        body = json.dumps({"data": [{"id": "m"}]} if ok else {"error": "Unauthorized"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keyed_server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Keyed,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()
    server.server_close()


def _run(argv: list[str]) -> tuple[int, str]:
    console = Console(file=StringIO(), width=300)
    code = main([str(a) for a in argv], console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def test_cli_sends_the_key_and_never_records_it(keyed_server, tmp_path, monkeypatch) -> None:
    url, seen = keyed_server
    monkeypatch.delenv("S2B_API_KEY", raising=False)
    base = ["run", "--env", "judgment", "--agent", "llm", "--backend", "openai", "--base-url", url,
            "--max-retries", "0", "--episodes", "1", "--progress", "off"]  # fmt: skip
    code, out = _run([*base, "--out", tmp_path / "a"])
    assert code == 2 and "wants an API key (401)" in out and "--api-key" in out
    code, out = _run([*base, "--out", tmp_path / "b", "--api-key", KEY])
    assert f"Bearer {KEY}" in seen
    assert "wants an API key" not in out
    monkeypatch.setenv("S2B_API_KEY", KEY)
    seen.clear()
    _run([*base, "--out", tmp_path / "c"])
    assert seen and seen[0] == f"Bearer {KEY}"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), path


def test_model_settings_leave_the_key_out() -> None:
    from s2b.cli._common import model_settings

    args = argparse.Namespace(api_key=KEY, backend="openai", timeout=5.0)
    settings = model_settings(args)
    assert "api_key" not in settings["backend"] and KEY not in json.dumps(settings)
