"""``s2b serve``: run vLLM's OpenAI-compatible server on the CPU for a model and its LoRA adapters."""

from __future__ import annotations

import argparse
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from s2b.cli._args import add_dataclass_args, dataclass_from_args
from s2b_env.errors import ConfigError, S2BError

EPILOG = """examples:
  s2b serve                                   # default model on http://127.0.0.1:8000/v1
  s2b serve --adapter aligned=runs/align/adapter --port 8001
  S2B_API_KEY=$(openssl rand -hex 16) s2b serve --host 0.0.0.0   # reachable from the network
  s2b profile --backend openai --base-url http://127.0.0.1:8001/v1 --adapter aligned
"""


@dataclass
class ServeConfig:
    """What ``s2b serve`` starts; every field is a command-line option."""

    model: str | None = field(
        default=None,
        metadata={"help": "local model folder (default: the converted SmolLM2-135M-Instruct)"},
    )
    adapter: tuple[str, ...] = field(
        default=(),
        metadata={"help": "LoRA adapters to serve, NAME=FOLDER each; requests pick one by NAME"},
    )
    host: str = field(
        default="127.0.0.1",
        metadata={"help": "address to listen on (loopback; 0.0.0.0 exposes it to the network)"},
    )
    port: int = field(default=8000, metadata={"help": "TCP port"})
    served_name: str | None = field(
        default=None, metadata={"help": "the base model's name in requests (default: folder name)"}
    )
    max_model_len: int = field(default=2048, metadata={"help": "longest prompt + reply, tokens"})
    kv_cache_gib: int = field(default=2, metadata={"help": "VLLM_CPU_KVCACHE_SPACE in GiB"})
    startup_timeout: float = field(
        default=300.0, metadata={"help": "seconds to wait for the server to come up"}
    )
    api_key: str | None = field(
        default=None,
        repr=False,
        metadata={
            "help": "key clients must send (Authorization: Bearer KEY); default: the S2B_API_KEY "
            "setting, which other users cannot read in the process list"
        },
    )
    insecure: bool = field(
        default=False,
        metadata={"help": "allow a host beyond loopback without an API key (anyone can use it)"},
    )
    eager: bool = field(
        default=False,
        metadata={
            "help": "skip vLLM's model compilation: up in less than half the time, serves a "
            "little slower (default: the S2B_VLLM_EAGER setting)"
        },
    )

    def __post_init__(self) -> None:
        for spec in self.adapter:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise ConfigError(f"--adapter: expected NAME=FOLDER, got {spec!r}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"--port: expected 1-65535, got {self.port}")
        if self.max_model_len < 16:
            raise ConfigError(f"--max-model-len: expected >= 16, got {self.max_model_len}")
        if self.kv_cache_gib < 1:
            raise ConfigError(f"--kv-cache-gib: expected >= 1, got {self.kv_cache_gib}")
        if self.startup_timeout <= 0:
            raise ConfigError(f"--startup-timeout: expected > 0, got {self.startup_timeout}")
        from agents.backends.vllm_server import is_loopback

        if self.api_key is None:
            self.api_key = os.environ.get("S2B_API_KEY") or None
        if self.api_key is not None and not self.api_key.strip():
            raise S2BError("--api-key: expected a non-empty key, got an empty one")
        if self.api_key is None and not self.insecure and not is_loopback(self.host):
            raise S2BError(
                f"--host {self.host}: a server reachable beyond this machine needs an API key, "
                "or anyone on the network can use the model (fix: set S2B_API_KEY or pass "
                "--api-key KEY; clients pass the same; --insecure serves without a key)"
            )

    def adapters(self) -> dict[str, Path]:
        """The adapters as ``{name: folder}``."""
        return {s.partition("=")[0]: Path(s.partition("=")[2]) for s in self.adapter}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run vLLM's OpenAI-compatible server (CPU) for a model and LoRA adapters",
        description="Start vLLM's OpenAI-compatible server from the .venv-vllm environment "
        "(scripts/setup.sh builds it) and keep it running until Ctrl-C.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dataclass_args(parser, ServeConfig)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from agents.backends.vllm_server import VLLMServer, is_loopback
    from agents.models import resolve_model

    config = dataclass_from_args(ServeConfig, args)
    server = VLLMServer(
        resolve_model(config.model),
        adapters=config.adapters(),
        host=config.host,
        port=config.port,
        served_name=config.served_name,
        max_model_len=config.max_model_len,
        kv_cache_gib=config.kv_cache_gib,
        api_key=config.api_key,
        insecure=config.insecure,
        eager=config.eager or None,
    )

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # stop vLLM's process group too, in the finally below

    # SIGTERM (kill, a job scheduler) must stop the server like Ctrl-C; SIGINT is also
    # re-armed, since a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if not is_loopback(config.host):
        guard = "clients must send the API key" if config.api_key else "[red]without an API key[/]"
        console.print(
            f"[yellow]warning:[/] listening on {config.host}, not only on loopback; {guard}"
        )
    console.print("starting vLLM ...", highlight=False)
    try:
        with console.status("waiting for the server to come up"):
            server.start(wait=config.startup_timeout)
        names = [server.served_name, *server.adapters]
        console.print(
            f"serving {', '.join(names)} at [bold]{server.base_url}[/] (log {server.log_path}); "
            "Ctrl-C stops it",
            highlight=False,
        )
        code = server.wait()
        console.print(f"[red]the server exited with status {code}[/]:\n{server.log_tail()}")
        return 1
    except KeyboardInterrupt:
        console.print("stopping the server")
        return 0
    finally:
        server.stop()
