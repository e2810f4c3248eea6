"""The attack corpus of issue 10 graded in one batch with honest controls, through the pipeline.

Proves, for every category of :data:`tests.autograder.corpus.ATTACKS`: no attack scores above the
plain wrong answer, no planted secret reaches anything a student produced, no other student is
touched, every student has a score and a reason, the batch finishes, no process or SysV IPC
object of a submission is left, and the gradebook is consistent field by field. Run as root and,
through ``test_unprivileged.py``, as an unprivileged user (``BPC_ATTACKS_UNPRIVILEGED=1``).
"""

from __future__ import annotations

import base64
import html
import html.parser
import io
import json
import os
import socket
import subprocess
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook

from autograder import demo, feedback, pipeline, synthetic
from autograder.gradebook import load_stored
from tests.autograder.conftest import ASSIGNMENT, FAST, copy_course
from tests.autograder.corpus import (
    ATTACK_CATEGORIES,
    ATTACKS,
    BOUNDS_ATTACKS,
    HOST_SOCKET,
    MARKDOWN_ATTACKS,
    SECRET,
    SHM_KEY,
    XSS,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
COORDINATOR_PEAK = 600 * 1024**2  # measured: 304 MB as root (reading every zip member: > 1 GB)
WORKER_PEAK = 700 * 1024**2  # measured: 373 MB at most
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fe0dd8a5"
    "0a0000000049454e44ae426082")).decode()


def _ipc_keys() -> set[str]:
    out = subprocess.run(["ipcs", "-a"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("0x")}


def _sandbox_processes() -> list[str]:
    """Processes left by our sandboxes (this Python installation in a workspace, or the
    sleepers of the attacks); other graders on the machine are not ours to judge."""
    import sys

    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        ours = sys.prefix in cmd and ("bpc-ws-" in cwd or "bpc-ws-" in cmd)
        if ours or cmd.startswith("sleep 600") or "bwrap" in cmd and sys.prefix in cmd:
            left.append(f"{pid}: {cmd[:80]}")
    return left


class _Listener:
    """Host services a sandbox must not reach: a pathname Unix socket and a loopback port."""

    def __init__(self) -> None:
        self.contacts = 0
        Path(HOST_SOCKET).unlink(missing_ok=True)
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(HOST_SOCKET)
        os.chmod(HOST_SOCKET, 0o777)
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        for s in (self.unix, self.tcp):
            s.listen()
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s: socket.socket) -> None:
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            self.contacts += 1
            conn.sendall(SECRET.encode())
            conn.close()

    def close(self) -> None:
        self.unix.close()
        self.tcp.close()
        Path(HOST_SOCKET).unlink(missing_ok=True)


class _Peaks:
    """Peak resident memory (VmHWM) of the coordinator (this process, reset before the batch)
    and of every worker process (its direct children), sampled while the batch runs."""

    def __init__(self) -> None:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets this process's VmHWM
        self.workers: dict[int, int] = {}
        self.coordinator = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _hwm(pid: int | str) -> int:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.1):
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/stat", "rb") as fh:
                        stat = fh.read()
                except OSError:
                    continue
                if stat[stat.rfind(b")") + 2:].split()[1].decode() == me:
                    self.workers[int(pid)] = max(self.workers.get(int(pid), 0), self._hwm(pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.coordinator = self._hwm("self")


def _bounds_attacks(folder: Path, wrong_nb) -> None:
    """The BOUNDS_ATTACKS submissions (the markdown flood is written with the others)."""
    target = folder / "t_deep_json" / ASSIGNMENT
    target.mkdir(parents=True)
    (target / "backprop.ipynb").write_bytes(
        b'{"cells": [], "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    big = nbformat.from_dict(json.loads(nbformat.writes(wrong_nb)))
    for i in range(3):  # 18 MB of attachments: past the 8 MB budget, inside the 20 MB file cap
        cell = new_markdown_cell(f"![a{i}](attachment:a{i}.png)")
        cell["attachments"] = {f"a{i}.png": {"image/png": "A" * (6 * 1024**2)}}
        big.cells.append(cell)
    _write(folder, "t_big_attachments", big)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for i in range(50):
            zf.writestr(f"extra{i}.ipynb", bytes(20 * 1024**2 - 1))
        zf.writestr("backprop.ipynb", nbformat.writes(wrong_nb))
    (folder / "t_zip_bomb.zip").write_bytes(buf.getvalue())


def _write(folder: Path, student: str, nb) -> None:
    target = folder / student / ASSIGNMENT
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target / "backprop.ipynb")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("attacks")
    course = copy_course(base)
    secret_file = base / "planted-secret.txt"
    secret_file.write_text(SECRET)
    os.chmod(secret_file, 0o600)
    os.environ["BPC_PLANTED_SECRET"] = SECRET  # the coordinator's environment
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    src = nbformat.read(course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    wrong = demo.task_module(course, ASSIGNMENT).WRONG
    folder = base / "submitted"
    listener = _Listener()
    ipc_before = _ipc_keys()
    _write(folder, "correct", synthetic.solved(src, rel))
    _write(folder, "blank", rel)
    _write(folder, "control_wrong", synthetic.solved(src, rel, wrong))
    honest = synthetic.solved(src, rel)
    pic = new_markdown_cell("My sketch of the graph: ![sketch](attachment:sketch.png)")
    pic["attachments"] = {"sketch.png": {"image/png": PNG}}
    honest.cells.insert(1, pic)
    _write(folder, "honest_attachment", honest)
    fill = {"{SECRET_FILE}": str(secret_file), "{GRADEBOOK}": course.db_url.split("///")[-1],
            "{PORT}": str(listener.port)}
    for kind, (_cat, code) in ATTACKS.items():
        for key, value in fill.items():
            code = code.replace(key, value)
        nb = synthetic.solved(src, rel, wrong)
        first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {})
                     .get("grade"))
        nb.cells.insert(first, new_code_cell(code))
        _write(folder, kind, nb)
    for kind, text in MARKDOWN_ATTACKS.items():
        nb = synthetic.solved(src, rel, wrong)
        nb.cells.append(new_markdown_cell(text))
        nb.cells.append(nbformat.v4.new_raw_cell(f"<script>{XSS}13()</script>"))
        _write(folder, kind, nb)
    flood = synthetic.solved(src, rel, wrong)  # untimed trusted work: 2900 markdown cells
    flood.cells += [new_markdown_cell(f"*{i}* " + "text _x_ " * 500) for i in range(2900)]
    _write(folder, "t_markdown_flood", flood)
    _bounds_attacks(folder, synthetic.solved(src, rel, wrong))
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_student("bystander", first_name="By", email="b@example.org")
    peaks = _Peaks()
    try:
        report = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                           pipeline.GradeOptions(workers=2, limits=FAST))
    finally:
        peaks.stop()
        listener.close()
        os.environ.pop("BPC_PLANTED_SECRET", None)
    print(f"\npeak RSS: coordinator {peaks.coordinator >> 20} MB, workers "
          f"{sorted(v >> 20 for v in peaks.workers.values())} MB")
    return course, report, listener, ipc_before, peaks


def _rows(report):
    return {r.student: r for r in report.rows}


def _auto(row) -> float:
    return sum(c.score or 0 for g, c in row.cells.items() if g != "explain")


def test_every_category_has_three_techniques():
    per: dict[str, int] = {}
    for cat, _ in ATTACKS.values():
        per[cat] = per.get(cat, 0) + 1
    per["feedback"] = per.get("feedback", 0) + len(MARKDOWN_ATTACKS)
    per["bounds"] = len(BOUNDS_ATTACKS)
    assert set(per) == set(ATTACK_CATEGORIES)
    assert all(n >= 3 for n in per.values()), per


def test_every_student_scored_with_a_reason(batch):
    _, report, _, _, _ = batch
    rows = _rows(report)
    expected = set(ATTACKS) | set(MARKDOWN_ATTACKS) | set(BOUNDS_ATTACKS) | {
        "correct", "blank", "control_wrong", "honest_attachment"}
    assert set(rows) == expected and report.rejected == []
    for student, row in rows.items():
        assert row.max_score == 7
        if _auto(row) < 5:
            assert row.diagnosis or row.notes, student


def test_honest_controls(batch):
    course, report, _, _, _ = batch
    rows = _rows(report)
    assert _auto(rows["correct"]) == 5 and _auto(rows["blank"]) == 0
    assert _auto(rows["honest_attachment"]) == 5, rows["honest_attachment"].notes
    assert not rows["honest_attachment"].flags
    page = (course.feedback_dir("honest_attachment", ASSIGNMENT) / "backprop.html").read_text()
    assert f'src="data:image/png;base64,{PNG}"' in page


@pytest.mark.parametrize("kind", sorted(ATTACKS) + sorted(MARKDOWN_ATTACKS) +
                         sorted(BOUNDS_ATTACKS))
def test_no_attack_gains_a_point(batch, kind):
    _, report, _, _, _ = batch
    rows = _rows(report)
    assert _auto(rows[kind]) <= _auto(rows["control_wrong"]), (rows[kind].notes,
                                                               rows[kind].diagnosis)


def _everything_students_see(course, student: str) -> str:
    parts = []
    for path in [course.autograded_dir(student, ASSIGNMENT) / "backprop.ipynb",
                 course.feedback_dir(student, ASSIGNMENT) / "backprop.html"]:
        if path.exists():
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def test_no_secret_and_no_reach(batch):
    course, report, listener, _, _ = batch
    assert listener.contacts == 0
    for student in _rows(report):
        seen = _everything_students_see(course, student)
        assert SECRET not in seen, student
        assert "FOUND" not in seen.replace("'FOUND'", ""), (student, [
            ln for ln in seen.splitlines() if "FOUND" in ln][:3])
        assert "root:" not in seen  # /etc/shadow


class _Active(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hits: list[str] = []
        self.tag = ""

    def handle_starttag(self, tag, attrs):
        self.tag = tag
        for name, value in attrs:
            value = value or ""
            if (XSS in value or name.startswith("on")
                    or value.strip().lower().startswith(("javascript:", "data:text"))):
                self.hits.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self.tag in ("script", "style") and XSS in data:
            self.hits.append(f"<{self.tag}>{data[:60]}")


@pytest.mark.parametrize("kind", ["f_html_output", *sorted(MARKDOWN_ATTACKS)])
def test_feedback_is_inert(batch, kind):
    course, _, _, _, _ = batch
    page = (course.feedback_dir(kind, ASSIGNMENT) / "backprop.html").read_text()
    parser = _Active()
    parser.feed(page)
    assert parser.hits == []


def test_nothing_left_and_gradebook_consistent(batch):
    course, report, _, ipc_before, _ = batch
    assert _sandbox_processes() == []
    keys = _ipc_keys()
    assert f"0x{SHM_KEY:08x}" not in keys and keys <= ipc_before
    assert report.problems == []
    with Gradebook(course.db_url, course.course_id) as gb:
        by = gb.find_student("bystander")
        assert (by.first_name, by.email, by.submissions) == ("By", "b@example.org", [])
        for row in report.rows:
            for g in gb.find_submission(ASSIGNMENT, row.student).notebooks[0].grades:
                assert g.manual_score is None and g.extra_credit is None


def test_sandbox_stopped_the_attacks(batch):
    """The limits did the stopping (not a failure of the attack code)."""
    course, report, _, _, _ = batch
    notes = {r.student: " ".join(r.notes) for r in report.rows}
    fill = _everything_students_see(course, "s_disk_fill")
    assert "stopped OSError" in fill or "disk quota" in notes["s_disk_fill"]
    assert "limit " in _everything_students_see(course, "s_leftovers")  # the process limit
    assert "pids ['1', '2']" in _everything_students_see(course, "s_proc")  # PID namespace
    assert "shm -1" in _everything_students_see(course, "s_sysv_read")  # IPC namespace
    # 120 MiB: ZeroMQ drops the message; the kernel, stuck sending it, is ended by the watchdog
    assert any(reason in notes["t_display_update"]
               for reason in ("truncated", "ignored the interrupt", "time limit"))
    flood = (course.feedback_dir("t_markdown_flood", ASSIGNMENT) / "backprop.html").read_text()
    assert "size limit for text" in flood or "could not render the feedback" in notes[
        "t_markdown_flood"]


HIDDEN_HEX = b"BEGIN HIDDEN TESTS".hex()


def test_hidden_tests_seen_in_the_kernel_reach_no_feedback(batch):
    """A hook that copies the hidden tests (hex-encoded) into an earlier display: feedback
    pages show neither that nor any hidden line the student did not write themselves."""
    course, report, _, _, _ = batch
    stored = load_stored(course.db_url, course.course_id, ASSIGNMENT)["backprop"]
    hidden = [html.escape(h, quote=False) for h in feedback.hidden_lines(stored)]
    for student in _rows(report):
        path = course.feedback_dir(student, ASSIGNMENT) / "backprop.html"
        if not path.exists():
            continue
        page = path.read_text(errors="replace")
        own = ATTACKS.get(student, ("", ""))[1]
        assert HIDDEN_HEX not in page, student
        assert [h for h in hidden if h in page and h not in own] == [], student


def test_bounded_trusted_steps_give_a_score_and_a_reason(batch):
    _, report, _, _, _ = batch
    rows = _rows(report)
    assert "nested too deeply" in " ".join(rows["t_deep_json"].notes)
    assert "ignored notebooks that are not part of the assignment" in " ".join(
        rows["t_zip_bomb"].notes)
    assert _auto(rows["t_big_attachments"]) == _auto(rows["control_wrong"])
    notes = {r.student: " ".join(r.notes) for r in report.rows}
    for kind in ("t_frame_huge", "t_frame_deep", "t_frame_drip"):
        assert "isolated run" in notes[kind], (kind, notes[kind])


def test_coordinator_and_worker_memory_stay_bounded(batch):
    """Peak RSS during the batch (the zip of 50 x 20 MB members, the 320 MB .npz bomb, the
    120 MiB display update, 18 MB of attachments, 2900 markdown cells are all in it)."""
    _, _, _, _, peaks = batch
    assert peaks.workers, "no worker process was seen"
    assert peaks.coordinator < COORDINATOR_PEAK, peaks.coordinator >> 20
    assert max(peaks.workers.values()) < WORKER_PEAK, sorted(
        v >> 20 for v in peaks.workers.values())
