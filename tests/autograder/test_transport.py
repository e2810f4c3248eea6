"""Reading sandbox outputs as hostile input, and bounded trusted steps."""

from __future__ import annotations

import io
import os
import time
import zipfile

import numpy as np
import pytest

from autograder import bounded, transport


def _out(tmp_path):
    out = tmp_path / ".job" / "out"
    out.mkdir(parents=True)
    return out


def test_fifo_symlink_and_folder_are_refused_without_blocking(tmp_path):
    out = _out(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("top secret")
    os.mkfifo(out / "p0.json")
    os.symlink(secret, out / "p1.json")
    (out / "p2.json").mkdir()
    start = time.monotonic()
    with transport.OutputDir(tmp_path, ".job", "out") as d:
        for name in ("p0.json", "p1.json", "p2.json"):
            assert not d.exists(name)
            with pytest.raises(transport.TransportError):
                d.load_json(name)
    assert time.monotonic() - start < 2


def test_symlinked_folder_is_not_followed(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "cells.json").write_text("[]")
    (tmp_path / ".job").mkdir()
    os.symlink(real, tmp_path / ".job" / "out")
    with transport.OutputDir(tmp_path, ".job", "out") as d:
        assert d.fd is None and not d.exists("cells.json")


def test_sizes_are_capped_before_decoding(tmp_path):
    out = _out(tmp_path)
    (out / "big.json").write_text("[" + "1," * 1000 + "1]")
    (out / "deep.json").write_text("[" * 100_000)
    with transport.OutputDir(tmp_path, ".job", "out") as d:
        with pytest.raises(transport.TransportError, match="larger"):
            d.load_json("big.json", limit=100)
        with pytest.raises(transport.TransportError):
            d.load_json("deep.json")


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
