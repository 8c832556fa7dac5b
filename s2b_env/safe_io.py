"""Writing files without losing data, and opening logs without following planted links.

* :func:`atomic_write_lines` writes to a temporary file beside the target and renames it over the
  target only once everything is written: a failed write (bad input found late, disk full, kill)
  leaves the old file whole. An existing target is replaced only when asked.
* :func:`check_output_path` says, before any work is done, why a path cannot take an output file:
  it is a folder, a file stands where a folder is needed, it already exists, it is an input.
* :func:`open_private_log` creates a log file that is never a link someone planted: the name must
  not exist yet (``O_EXCL``) and a link is never followed (``O_NOFOLLOW``); permissions ``0600``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from s2b_env.errors import S2BError


class OutputPathError(S2BError):
    """A path given for an output file cannot take it (it exists, is a folder, is an input...)."""


def check_output_path(
    out: str | Path,
    *,
    replace: bool = False,
    inputs: Iterable[str | Path] = (),
    option: str = "--out",
) -> Path:
    """Check that ``out`` can take a new file, before any work is done.

    Args:
        out: The output file.
        replace: Whether an existing file may be replaced.
        inputs: Files the command reads; ``out`` may never be one of them (links resolved).
        option: The option that named ``out``, for messages.

    Returns:
        ``out`` as a :class:`~pathlib.Path`.

    Raises:
        OutputPathError: ``out`` is an input, a folder, under a file, or exists (without
            ``replace``).
    """
    out = Path(out)
    for source in inputs:
        if _same_file(out, Path(source)):
            raise OutputPathError(
                f"{option} {out} is the input file {source}; writing there would destroy it "
                f"(fix: give {option} another file name)"
            )
    if out.is_dir():
        raise OutputPathError(
            f"{option} {out} is a folder; expected the name of a file to write "
            f"(fix: e.g. {option} {out / 'out.jsonl'})"
        )
    for parent in out.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise OutputPathError(
                    f"{option} {out}: {parent} is a file, not a folder (fix: choose a path whose "
                    "folders are folders)"
                )
            break
    if (out.exists() or out.is_symlink()) and not replace:
        raise OutputPathError(
            f"{option} {out} already exists; nothing was written (fix: pass --force to replace "
            f"it, or choose another {option})"
        )
    return out


def atomic_write_lines(out: str | Path, lines: Iterable[str], *, replace: bool = False) -> int:
    """Write ``lines`` (each ending in a newline) to ``out`` as UTF-8, all or nothing.

    The text goes to a temporary file in ``out``'s folder (made if missing), is flushed to disk,
    and is renamed over ``out`` at the end. A new file gets the permissions the umask allows; a
    replaced one keeps its own.

    Args:
        out: The file to write.
        lines: The lines; an exception while producing them leaves ``out`` as it was.
        replace: Replace an existing ``out``.

    Returns:
        How many lines were written.

    Raises:
        OutputPathError: See :func:`check_output_path`.
    """
    out = check_output_path(out, replace=replace)
    out.parent.mkdir(parents=True, exist_ok=True)
    mode = (out.stat().st_mode & 0o7777) if out.is_file() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for line in lines:
                handle.write(line)
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if not replace and (out.exists() or out.is_symlink()):
            raise OutputPathError(f"{out} appeared while it was being written; nothing was written")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def open_private_log(folder: str | Path, name: str) -> tuple[Path, BinaryIO]:
    """Create ``folder/name`` for writing a log, never through a link and never over a file.

    Args:
        folder: A folder the caller owns (a run's folder, or one from :func:`tempfile.mkdtemp`).
        name: The log's file name; if taken, ``name`` with ``-1``, ``-2``... before the suffix.

    Returns:
        The path and the open binary handle (the caller closes it).

    Raises:
        OutputPathError: ``folder`` is not a folder, or no free name was found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputPathError(f"log folder {folder} is not a folder")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    stem, dot, suffix = name.rpartition(".")
    for attempt in range(100):
        candidate = name
        if attempt:
            candidate = f"{stem}-{attempt}.{suffix}" if dot else f"{name}-{attempt}"
        path = folder / candidate
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue  # a file or a link (dangling ones included) holds the name: never touch it
        return path, os.fdopen(fd, "wb")
    raise OutputPathError(f"no free log file name like {name} in {folder}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
