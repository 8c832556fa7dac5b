"""HTTP helpers of the OpenAI-compatible backend: a small LRU of token ids, and the whole-reply
deadline (:class:`Cutoff`, :class:`DeadlineExceeded`) that makes ``--timeout`` bound a reply
from the request to its last byte (httpx's own timeouts are per read).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import OrderedDict
from typing import Any


class TokenLRU:
    """A small thread-safe least-recently-used map of text to token ids."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, ...] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: tuple[int, ...]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class DeadlineExceeded(Exception):
    """A reply was not complete by its deadline (turned into a ServerTimeoutError)."""


class Cutoff:
    """Shuts a streaming reply's socket down at a deadline, waking a read blocked on it."""

    def __init__(self, reply: Any, deadline: float) -> None:
        self.fired = False
        self._socket = None
        stream = reply.extensions.get("network_stream")
        if stream is not None and hasattr(stream, "get_extra_info"):
            self._socket = stream.get_extra_info("socket")
        self._timer: threading.Timer | None = None
        if self._socket is not None:
            self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
