"""The attack batch again, with the grader running as an unprivileged user (CI runs as root).

As root this test creates the system user ``bpc-grader`` (``useradd``) and runs
``tests/autograder/test_attacks.py`` and ``test_postgres_attacks.py`` under it with ``setpriv``
(no supplementary groups, a clean environment). When the Python installation lies under a
folder that user cannot enter (e.g. ``/root/.pyenv``), the run happens in a private mount
namespace (``unshare --mount``) where only that installation is made reachable, exactly as an
instructor's own installation would be.
Without root, test_attacks.py already runs unprivileged and this test is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]
USER = "bpc-grader"
ROOT = Path(__file__).resolve().parents[2]


def _closed_ancestors(paths: list[str]) -> dict[str, set[str]]:
    """For each path, its first ancestor others cannot traverse, and the child to expose."""
    plan: dict[str, set[str]] = {}
    for path in paths:
        parts = [p for p in os.path.realpath(path).split("/") if p]
        for i in range(len(parts) - 1):
            anc = "/" + "/".join(parts[: i + 1])
            if not os.stat(anc).st_mode & 0o001:
                plan.setdefault(anc, set()).add(parts[i + 1])
                break
    return plan


def _script(plan: dict[str, set[str]], argv: list[str]) -> str:
    lines = ["set -e"]
    staged = []
    for anc, kids in plan.items():
        for kid in sorted(kids):
            stage = f"/tmp/bpc-stage-{len(staged)}"
            lines += [f"mkdir -p {stage}", f"mount --bind {anc}/{kid} {stage}"]
            staged.append((stage, f"{anc}/{kid}"))
    for anc in plan:
        lines.append(f"mount -t tmpfs -o mode=755,size=64k tmpfs {anc}")
    for stage, target in staged:
        lines += [f"mkdir -p {target}", f"mount --move {stage} {target}"]
    lines.append("exec " + " ".join(f"'{a}'" for a in argv))
    return "\n".join(lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: test_attacks.py covers it")
def test_attack_batch_as_unprivileged_user():
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd/setpriv are missing")
    if subprocess.run(["id", USER], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", USER], check=True)
    home = Path(tempfile.mkdtemp(prefix="bpc-unprivileged-"))  # pytest's tmp is root-only
    shutil.chown(home, USER, USER)
    python = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
              "--basetemp", str(home / "pt"), str(ROOT / "tests/autograder/test_attacks.py"),
              str(ROOT / "tests/autograder/test_postgres_attacks.py")]
    inner = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups",
             "env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
             "BPC_ATTACKS_UNPRIVILEGED=1", *python]
    plan = _closed_ancestors([sys.prefix, sys.base_prefix, str(ROOT)])
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            _script(plan, inner)] if plan else inner
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800,
                              check=False)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    tail = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout and "skipped" not in done.stdout.split("\n")[-2], tail
