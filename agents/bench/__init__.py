"""The benchmark: agents side by side across envs and seeds (``s2b bench``, ``s2b report``)."""

from __future__ import annotations
