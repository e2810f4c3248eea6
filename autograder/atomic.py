"""Atomic file writes: a reader sees the old file or the new one, never a half-written one.

The data goes to a temporary file in the same folder, is flushed to disk, and replaces the
target with ``os.replace``. A failure (disk full, permissions) leaves the old file untouched and
raises :class:`~autograder.course.OutputError` with a one-line message naming the file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from autograder.course import OutputError

_FULL = (errno.ENOSPC, errno.EDQUOT)


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` by ``data`` atomically (parents created)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise output_error(exc, path) from None


def write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` by ``text`` (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"), mode)


def output_error(exc: OSError, path: Path) -> OutputError:
    """One line saying which file could not be written and what to do."""
    if exc.errno in _FULL:
        return OutputError(f"disk full while writing {path}: free space on that disk and run "
                           "the same command again (the previous file is unchanged; students "
                           "finished before are saved)")
    return OutputError(f"cannot write {path} ({exc.strerror or exc}): fix the folder's "
                       "permissions and run the same command again (the previous file is "
                       "unchanged)")
