"""Reading what a sandbox wrote: hostile input, read strictly and within fixed bounds.

A program that ran student code may have replaced any output by a symlink (to a file only the
grader can read), a FIFO or a device (that blocks a reader forever), a directory, or a small file
that inflates when decoded. Every read here therefore walks the folders without following
symlinks (``O_NOFOLLOW`` at every step, relative to a folder the grader opened), opens without
blocking, accepts regular files only (``fstat``), reads at most the cap plus one byte, and checks
**decoded** sizes before anything is allocated: an ``.npz`` member's declared size and its
``.npy`` header (shape times item size) must agree with the bytes actually present, within a
total budget. Any violation raises :class:`TransportError` (a reason for the student's result).
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

MAX_JSON_BYTES = 4 * 1024**2
MAX_NPZ_BYTES = 64 * 1024**2
MAX_DECODED_BYTES = 256 * 1024**2
MAX_MEMBERS = 1000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class TransportError(ValueError):
    """An output of a sandbox that is not a small regular file of the expected form."""


class OutputDir:
    """A folder of sandbox outputs opened without following symlinks (use as a context)."""

    def __init__(self, base: Path, *parts: str) -> None:
        self.fd: int | None = None
        fd = os.open(base, _DIR_FLAGS)
        try:
            for part in parts:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError:
            os.close(fd)
            fd = None
        self.fd = fd

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def exists(self, name: str) -> bool:
        """True when ``name`` is a regular file here (symlinks, FIFOs, folders: False)."""
        if self.fd is None:
            return False
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode)

    def read_bytes(self, name: str, limit: int) -> bytes:
        """The content of the regular file ``name``, at most ``limit`` bytes."""
        if self.fd is None:
            raise TransportError("the output folder is missing or not a folder")
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            raise TransportError(f"{name} cannot be opened ({exc.strerror})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise TransportError(f"{name} is not a regular file")
            if st.st_size > limit:
                raise TransportError(f"{name} is larger than {limit} bytes")
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, min(1 << 20, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > limit:
                raise TransportError(f"{name} is larger than {limit} bytes")
            return b"".join(chunks)
        finally:
            os.close(fd)

    def load_json(self, name: str, limit: int = MAX_JSON_BYTES) -> Any:
        """Parse a small JSON file (size-capped; deep nesting rejected)."""
        data = self.read_bytes(name, limit)
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise TransportError(f"{name} is not valid JSON ({str(exc)[:80]})") from None

    def load_arrays(self, name: str, limit: int = MAX_NPZ_BYTES,
                    decoded_limit: int = MAX_DECODED_BYTES) -> dict[str, np.ndarray]:
        """Numeric arrays of an ``.npz`` (no pickle), with decoded sizes checked first."""
        if not self.exists(name):
            return {}
        return decode_npz(self.read_bytes(name, limit), decoded_limit)


def decode_npz(data: bytes, decoded_limit: int = MAX_DECODED_BYTES) -> dict[str, np.ndarray]:
    """Decode ``.npz`` bytes; every member is checked against the budget before it is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TransportError(f"the arrays are not a valid .npz ({exc})") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise TransportError("too many arrays")
    budget = decoded_limit
    out: dict[str, np.ndarray] = {}
    for info in infos:
        if info.file_size > budget:
            raise TransportError("the arrays are larger than the size limit once decoded")
        budget -= info.file_size
        if not info.filename.endswith(".npy"):
            raise TransportError(f"unexpected member {info.filename[:40]!r}")
        try:
            with archive.open(info) as fh:
                out[info.filename[:-4]] = _read_npy(fh, info.file_size)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise TransportError(f"array {info.filename[:40]!r} is invalid ({exc})") from None
    return out


def _read_npy(fh: Any, declared: int) -> np.ndarray:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10_000)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10_000)
    else:
        raise TransportError(f"unsupported .npy version {version}")
    if dtype.hasobject or dtype.kind not in "biufc":
        raise TransportError(f"non-numeric dtype {dtype}")
    count = 1
    for n in shape:
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes > declared:
        raise TransportError("the array header claims more data than the file holds")
    raw = fh.read(nbytes + 1)
    if len(raw) != nbytes:
        raise TransportError("the array data does not match its header")
    arr = np.frombuffer(raw, dtype=dtype, count=count)
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order).copy(order=order)
