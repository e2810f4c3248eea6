"""Talking to the isolated runner: hostile input, read strictly, within bounds of time and size.

The grader and the runner (``sandboxed/runner.py``) exchange frames over a pipe pair, in strict
turns: a 12-byte header (``b"bpc1"``, the JSON length, the ``.npz`` length, big-endian), the JSON
and the ``.npz`` bytes. Nothing is read from the runner's workspace, so a symlink, FIFO or device
planted there is never opened. The program at the other end runs student code and may send
anything, or nothing: every read has a deadline (a silent or dripping runner ends the exchange),
the header's lengths are checked against caps before anything is read (JSON 4 MB, ``.npz`` 64 MB
per frame, 96 MB per session), and **decoded** sizes are checked before anything is allocated:
an ``.npz`` member's declared size and its ``.npy`` header (shape times item size) must agree
with the bytes actually present, within a decoded budget. Any violation raises
:class:`TransportError` (a reason for the student's result).
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
import zipfile
from typing import Any

import numpy as np

MAX_JSON_BYTES = 4 * 1024**2
MAX_NPZ_BYTES = 64 * 1024**2
MAX_SESSION_BYTES = 96 * 1024**2
MAX_DECODED_BYTES = 256 * 1024**2
MAX_MEMBERS = 1000
MAGIC = b"bpc1"
_HEADER = struct.Struct(">4sII")


class TransportError(ValueError):
    """A message from a sandbox that is late, too large or not of the expected form."""


def _wait(fd: int, events: int, deadline: float) -> None:
    poller = select.poll()
    poller.register(fd, events | select.POLLERR | select.POLLHUP)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransportError("the isolated run did not answer in time")
        if poller.poll(min(left, 1.0) * 1000):
            return


def send_frame(fd: int, obj: Any, npz: bytes, deadline: float) -> int:
    """Write one frame without blocking past ``deadline``; return its size in bytes."""
    data = json.dumps(obj).encode("utf-8")
    view = memoryview(_HEADER.pack(MAGIC, len(data), len(npz)) + data + npz)
    size = len(view)
    os.set_blocking(fd, False)
    while view:
        _wait(fd, select.POLLOUT, deadline)
        try:
            view = view[os.write(fd, view[: 1 << 16]):]
        except BlockingIOError:
            continue
        except OSError as exc:
            raise TransportError(f"the isolated run stopped reading ({exc.strerror})") from None
    return size


def _read_exact(fd: int, n: int, deadline: float) -> bytes:
    os.set_blocking(fd, False)
    chunks, left = [], n
    while left:
        _wait(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise TransportError("the isolated run ended before it answered")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv_frame(fd: int, deadline: float, max_json: int = MAX_JSON_BYTES,
               max_npz: int = MAX_NPZ_BYTES) -> tuple[Any, bytes]:
    """Read one frame (JSON value, ``.npz`` bytes); sizes are checked before the body is read."""
    magic, n_json, n_npz = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if magic != MAGIC:
        raise TransportError("the isolated run's answer is not a frame")
    if n_json > max_json or n_npz > max_npz:
        raise TransportError(f"the isolated run's answer is larger than the limit "
                             f"({max_json} bytes of JSON, {max_npz} bytes of arrays)")
    data = _read_exact(fd, n_json, deadline)
    npz = _read_exact(fd, n_npz, deadline)
    try:
        return json.loads(data.decode("utf-8")), npz
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TransportError(f"the isolated run's answer is not valid JSON "
                             f"({str(exc)[:80]})") from None


def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """The ``.npz`` bytes of numeric arrays (no pickle)."""
    if not arrays:
        return b""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def decode_npz(data: bytes, decoded_limit: int = MAX_DECODED_BYTES) -> dict[str, np.ndarray]:
    """Decode ``.npz`` bytes; every member is checked against the budget before it is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TransportError(f"the arrays are not a valid .npz ({exc})") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise TransportError("too many arrays")
    if not data:
        return {}
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
