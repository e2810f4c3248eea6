"""Attacks on a real PostgreSQL gradebook (server on loopback with a world-open socket folder).

The attacks know the server's socket folder and port exactly and use the psycopg driver that the
grader's own installation provides; they must not reach the server, over the Unix socket or TCP.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from autograder import demo, pipeline, synthetic
from autograder.course import Course
from autograder.demo import copy_fixture
from autograder.release import release_assignment
from tests.autograder.conftest import ASSIGNMENT, FAST
from tests.autograder.test_postgres import postgres_url  # noqa: F401 - the server fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ATTACK = '''
def _leak(tag, text):
    print('FOUND', tag, str(text)[:200])
try:
    import psycopg
except Exception as e:
    psycopg = None
    print('no driver', type(e).__name__)
for kw in [dict(host=SOCKDIR, port=PORT), dict(host='127.0.0.1', port=PORT)]:
    try:
        c = psycopg.connect(dbname='gradebook', user='postgres', connect_timeout=2, **kw)
        c.execute('update grade set manual_score = 99, extra_credit = 9')
        c.commit()
        _leak('pg', kw)
    except Exception as e:
        print('blocked', type(e).__name__)
import socket
for path in [SOCKDIR + '/.s.PGSQL.' + str(PORT)]:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        _leak('socket', path)
    except OSError as e:
        print('blocked', type(e).__name__)
'''


def test_postgres_gradebook_out_of_reach(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    port = int(postgres_url.rsplit(":", 1)[1].split("/")[0])
    sockdir = next(p for p in Path("/tmp").glob("bpc-pg-*/sock")
                   if (p / f".s.PGSQL.{port}").exists())
    for folder in (sockdir.parent, sockdir):  # the file system lets anyone in: only the sandbox
        os.chmod(folder, 0o777)
    root = tmp_path / "course"
    copy_fixture(root)
    course = Course(root, Course.load(root).course_id, postgres_url)
    assert release_assignment(course, ASSIGNMENT).ok
    folder = tmp_path / "submitted"
    kinds = demo.build_class(course, ASSIGNMENT, folder, abusive=False)
    for student in set(kinds) - {"correct"}:
        shutil.rmtree(folder / student)
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    src = nbformat.read(course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    wrong = demo.task_module(course, ASSIGNMENT).WRONG
    for name, nb in (("control_wrong", synthetic.solved(src, rel, wrong)),
                     ("pg_attack", synthetic.solved(src, rel, wrong))):
        if name == "pg_attack":
            code = f"SOCKDIR = {str(sockdir)!r}\nPORT = {port}\n" + ATTACK
            first = next(i for i, c in enumerate(nb.cells)
                         if c.metadata.get("nbgrader", {}).get("grade"))
            nb.cells.insert(first, new_code_cell(code))
        (folder / name / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, folder / name / ASSIGNMENT / "backprop.ipynb")
    report = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=2, limits=FAST))
    assert report.problems == []
    scores = {r.student: r.score for r in report.rows}
    assert scores["correct"] == 5 and scores["pg_attack"] <= scores["control_wrong"]
    graded = nbformat.read(course.autograded_dir("pg_attack", ASSIGNMENT) / "backprop.ipynb",
                           as_version=4)
    printed = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "FOUND" not in printed and printed.count("blocked") == 3, printed
    with Gradebook(postgres_url, course.course_id) as gb:
        for student in scores:
            for g in gb.find_submission(ASSIGNMENT, student).notebooks[0].grades:
                assert g.manual_score is None and g.extra_credit is None
