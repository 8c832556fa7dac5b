"""A bench's run folder: ``RUN/bench.json`` (the config) and ``RUN/units.jsonl`` (the results).

``units.jsonl`` holds one JSON line per finished unit, appended, flushed and ``fsync``-ed as each
unit finishes, so a kill (even ``kill -9``) loses at most the units in flight. Reading cuts a torn
last line (a write cut short). A unit is never written twice: a record for a unit the file already
holds is refused. Failed units are dropped from the file when a run is resumed, so that the rerun
plays them again (the file is rewritten atomically, never left half written).

A full disk while appending raises :class:`BenchStoreError` with one line that says so; the file is
cut back to its last whole line, so a rerun after freeing space continues.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from agents.bench.config import BenchConfig, field_name
from s2b_env.errors import S2BError

BENCH_FILE = "bench.json"
UNITS_FILE = "units.jsonl"
BENCH_FORMAT = "s2b-bench/1"


class BenchStoreError(S2BError):
    """A run folder that cannot be used: another config, not a bench folder, a full disk."""


def first_difference(
    old: Any, new: Any, path: tuple[str | int, ...] = ()
) -> tuple[str | int, ...] | None:
    """The path of the first field where ``old`` and ``new`` differ (``None``: equal)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            if key not in old or key not in new:
                return (*path, key)
            found = first_difference(old[key], new[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            found = first_difference(a, b, (*path, i))
            if found is not None:
                return found
        return None if len(old) == len(new) else (*path, min(len(old), len(new)))
    return None if old == new else path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BenchStore:
    """The files of one run folder.

    Args:
        run_dir: The folder (created by :meth:`open`).
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.bench_path = self.run_dir / BENCH_FILE
        self.units_path = self.run_dir / UNITS_FILE
        self._done: set[str] = set()

    # ------------------------------------------------------------------ opening

    def open(self, config: BenchConfig, *, resume: bool = True) -> set[str]:
        """Check or write ``bench.json``; return the ids of the units already finished (ok).

        Raises:
            BenchStoreError: The folder holds another config (naming the first changed field),
                holds results and ``resume`` is off, or its ``bench.json`` is unreadable.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "format": BENCH_FORMAT,
            "config": config.to_dict(),
            "config_hash": config.config_hash(),
        }
        if self.bench_path.is_file():
            saved = self._read_bench()
            if saved.get("config_hash") != record["config_hash"]:
                old = {
                    k: v for k, v in saved.get("config", {}).items() if k in config.result_dict()
                }
                changed = first_difference(old, config.result_dict())
                name = field_name(changed) if changed else "the config"
                raise BenchStoreError(
                    f"{self.run_dir} holds a bench with another config (first change: {name}); "
                    "rerun with the same config, or choose another --out"
                )
            if not resume and self.units_path.is_file() and self.units_path.stat().st_size:
                raise BenchStoreError(
                    f"{self.units_path} holds results; resume the run, or choose another --out"
                )
        elif self.units_path.is_file() and self.units_path.stat().st_size:
            raise BenchStoreError(
                f"{self.run_dir} has {UNITS_FILE} but no {BENCH_FILE}: not a bench folder s2b "
                "can resume; choose another --out"
            )
        tmp = self.bench_path.with_name(BENCH_FILE + ".tmp")
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.bench_path)
        records = self.records(cut=True)
        failed = [r for r in records if r.get("status") != "ok"]
        if failed:  # played again by this run: keep one line per unit
            self._rewrite([r for r in records if r.get("status") == "ok"])
        self._done = {r["unit_id"] for r in records if r.get("status") == "ok"}
        return set(self._done)

    def _read_bench(self) -> dict[str, Any]:
        try:
            saved = json.loads(self.bench_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BenchStoreError(
                f"{self.bench_path}: unreadable ({exc}); choose another --out"
            ) from None
        if not isinstance(saved, dict) or saved.get("format") != BENCH_FORMAT:
            raise BenchStoreError(
                f"{self.bench_path}: not an s2b bench file (format {saved.get('format') if isinstance(saved, dict) else None!r}, "
                f"expected {BENCH_FORMAT!r}); choose another --out"
            )
        return saved

    # ------------------------------------------------------------------ reading

    def records(self, *, cut: bool = False) -> list[dict[str, Any]]:
        """The unit records, one per unit (the first line of a unit wins).

        Args:
            cut: Also cut a torn last line off the file (only while no one appends).

        Raises:
            BenchStoreError: A whole line in the middle of the file is not a unit record.
        """
        if not self.units_path.is_file():
            return []
        data = self.units_path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data) and cut:
            with self.units_path.open("r+b") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, line in enumerate(data[:end].splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise BenchStoreError(
                    f"{self.units_path}:{number}: not a JSON line; the file was changed by hand? "
                    "remove that line and rerun"
                ) from None
            if (
                not isinstance(record, dict)
                or record.get("type") != "unit"
                or "unit_id" not in record
            ):
                raise BenchStoreError(f"{self.units_path}:{number}: not a unit record")
            if record["unit_id"] in seen:
                continue
            seen.add(record["unit_id"])
            out.append(record)
        return out

    # ------------------------------------------------------------------ writing

    def append(self, record: dict[str, Any]) -> bool:
        """Append one unit record (flushed and fsync-ed); ``False`` if the unit is already there.

        Raises:
            BenchStoreError: The disk is full (or another write error); the file keeps its whole
                lines and a rerun continues.
        """
        unit_id = record["unit_id"]
        if unit_id in self._done:
            return False
        line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.units_path.open("ab") as handle:
            size = handle.tell()
            try:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                self._cut_back(size)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise BenchStoreError(
                        f"{self.units_path}: the disk is full; the units finished so far are kept; "
                        "free some space and rerun the same command to continue"
                    ) from None
                raise BenchStoreError(
                    f"{self.units_path}: cannot write ({exc.strerror or exc}); the units finished "
                    "so far are kept; rerun the same command to continue"
                ) from None
        if record.get("status") == "ok":
            self._done.add(unit_id)
        return True

    def _cut_back(self, size: int) -> None:
        try:
            with self.units_path.open("r+b") as handle:
                handle.truncate(size)
        except OSError:
            pass  # the torn tail is cut when the run is read again

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        tmp = self.units_path.with_name(UNITS_FILE + ".tmp")
        with tmp.open("wb") as handle:
            for record in records:
                handle.write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.units_path)
        _fsync_dir(self.run_dir)


__all__ = [
    "BENCH_FILE",
    "BENCH_FORMAT",
    "UNITS_FILE",
    "BenchStore",
    "BenchStoreError",
    "first_difference",
]
