"""Reading the isolated runner's answers as hostile input, and bounded trusted steps."""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zipfile

import numpy as np
import pytest

from autograder import bounded, transport


def _frame(data: bytes, npz: bytes = b"", magic: bytes = transport.MAGIC) -> bytes:
    return struct.pack(">4sII", magic, len(data), len(npz)) + data + npz


def test_a_frame_round_trips():
    r, w = os.pipe()
    try:
        transport.send_frame(w, {"x": [1, 2]}, b"abc", time.monotonic() + 5)
        assert transport.recv_frame(r, time.monotonic() + 5) == ({"x": [1, 2]}, b"abc")
    finally:
        os.close(r)
        os.close(w)


def test_a_silent_or_dripping_runner_does_not_block_the_grader():
    r, w = os.pipe()
    stop = threading.Event()

    def drip() -> None:
        for byte in _frame(b"[1]" * 1000):
            if stop.wait(0.2):
                return
            os.write(w, bytes([byte]))

    try:
        start = time.monotonic()
        with pytest.raises(transport.TransportError, match="in time"):
            transport.recv_frame(r, time.monotonic() + 1)  # nothing at all
        threading.Thread(target=drip, daemon=True).start()
        with pytest.raises(transport.TransportError, match="in time"):
            transport.recv_frame(r, time.monotonic() + 1)  # one byte every 0.2 s
        assert time.monotonic() - start < 4
    finally:
        stop.set()
        os.close(r)
        os.close(w)


def test_lengths_are_checked_before_the_body_is_read():
    r, w = os.pipe()
    try:
        os.write(w, struct.pack(">4sII", transport.MAGIC, 2**31, 0))
        start = time.monotonic()
        with pytest.raises(transport.TransportError, match="larger than the limit"):
            transport.recv_frame(r, time.monotonic() + 30)
        assert time.monotonic() - start < 1
        os.write(w, _frame(b"[1]", magic=b"evil"))
        with pytest.raises(transport.TransportError, match="not a frame"):
            transport.recv_frame(r, time.monotonic() + 5)
    finally:
        os.close(r)
        os.close(w)


def test_deep_or_invalid_json_is_a_reason_not_a_crash():
    for body in (b"[" * 200_000, b"\xff\xfe", b"{"):
        r, w = os.pipe()
        try:
            writer = threading.Thread(target=os.write, args=(w, _frame(body)), daemon=True)
            writer.start()
            with pytest.raises(transport.TransportError, match="not valid JSON"):
                transport.recv_frame(r, time.monotonic() + 5)
            writer.join()
        finally:
            os.close(r)
            os.close(w)


def test_a_runner_that_stops_reading_does_not_block_the_grader():
    r, w = os.pipe()
    try:
        start = time.monotonic()
        with pytest.raises(transport.TransportError, match="in time"):
            transport.send_frame(w, {}, bytes(4 * 1024**2), time.monotonic() + 1)
        os.close(r)
        r = -1
        with pytest.raises(transport.TransportError, match="stopped reading"):
            transport.send_frame(w, {}, bytes(10), time.monotonic() + 1)
        assert time.monotonic() - start < 4
    finally:
        if r >= 0:
            os.close(r)
        os.close(w)


def _npz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_npz_bomb_and_lying_header_are_refused():
    good = io.BytesIO()
    np.save(good, np.arange(4.0))
    arrays = transport.decode_npz(_npz({"a0.npy": good.getvalue()}))
    np.testing.assert_array_equal(arrays["a0"], np.arange(4.0))
    bomb = _npz({"a0.npy": good.getvalue()[:128] + bytes(64 * 1024**2)})
    with pytest.raises(transport.TransportError):
        transport.decode_npz(bomb, decoded_limit=1024**2)  # 64 MB decoded, 64 kB compressed
    lie = io.BytesIO()
    np.lib.format.write_array_header_1_0(lie, {"descr": "<f8", "fortran_order": False,
                                               "shape": (10**9,)})
    with pytest.raises(transport.TransportError, match="claims more"):
        transport.decode_npz(_npz({"a0.npy": lie.getvalue() + bytes(32)}))
    obj = io.BytesIO()
    np.lib.format.write_array_header_1_0(obj, {"descr": "|O", "fortran_order": False,
                                               "shape": (1,)})
    with pytest.raises(transport.TransportError, match="non-numeric"):
        transport.decode_npz(_npz({"a0.npy": obj.getvalue() + bytes(8)}))


def _slow() -> None:
    while True:
        pass


def _hungry() -> bytes:
    return bytes(4 * 1024**3)


def test_bounded_steps():
    assert bounded.call(sum, [1, 2, 3], seconds=10) == 6
    start = time.monotonic()
    with pytest.raises(bounded.StepLimitError, match="time limit"):
        bounded.call(_slow, seconds=1)
    assert time.monotonic() - start < 5
    with pytest.raises(bounded.StepLimitError, match="memory"):
        bounded.call(_hungry, seconds=20, memory_bytes=512 * 1024**2)
    with pytest.raises(bounded.StepLimitError, match="ZeroDivisionError"):
        bounded.call(divmod, 1, 0, seconds=10)


def test_a_bounded_step_works_in_a_process_holding_more_than_1024_descriptors():
    import os

    from autograder import bounded

    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert bounded.call(sum, [1, 2, 3]) == 6  # its pipe is past 1024: select() fails
        with pytest.raises(bounded.StepLimitError, match="time limit"):
            bounded.call(__import__("time").sleep, 5, seconds=0.5)
    finally:
        for fd in held:
            os.close(fd)
