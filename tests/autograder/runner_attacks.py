"""Attacks on the trusted runner's job (issue 10): code that tries to get reference code or data
it is not lent, from a blank submission.

Each attack is a code cell appended to a blank notebook's code cells. ``{TARGETS}`` is replaced by
the list of every function and variable the assignment's tasks probe. Every attack ends by making
each target a wrapper that answers with whatever reference it has found by then (its own name in
``_GOT``), so any reference it could reach would score; they must score what the blank scores.
"""

from __future__ import annotations

_COMMON = '''
import gc, glob, json, os, sys, threading
_GOT = {}
_TARGETS = {TARGETS}

def _take(text):
    """Execute every reference-looking source into a scratch namespace and keep what it binds."""
    if not isinstance(text, str) or "def " not in text and "class " not in text:
        return
    if "def main()" in text:  # the runner's own source (its command line) is no reference
        return
    scratch = dict(globals())
    try:
        exec(text, scratch)
    except BaseException:
        return
    for k, v in scratch.items():
        if k in _TARGETS and v is not globals().get(k) and k not in _WRAPPED:
            _GOT[k] = v
            globals()[k] = v

def _walk(obj, depth=0):
    if depth > 12:
        return
    if isinstance(obj, str):
        _take(obj)
    elif isinstance(obj, dict):
        for v in list(obj.values()):
            _walk(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in list(obj):
            _walk(v, depth + 1)

_WRAPPED = set()

def _wrap(name):
    def wrapper(*args, **kwargs):
        _harvest()
        if name in _GOT:
            return _GOT[name](*args, **kwargs)
        raise NotImplementedError(name)
    _WRAPPED.add(name)
    return wrapper

def _arm():
    for name in _TARGETS:
        if name in _GOT:
            globals()[name] = _GOT[name]
        elif callable(globals().get(name)):
            globals()[name] = _wrap(name)
'''

RUNNER_ATTACKS: dict[str, str] = {
    # the job file or any JSON the workspace holds (the old protocol's .job/job.json)
    "r_job_file": _COMMON + '''
def _harvest():
    for p in glob.glob('.job/**', recursive=True) + glob.glob('**/*.json', recursive=True):
        try:
            _walk(json.loads(open(p).read()))
        except Exception:
            pass
_harvest()
_arm()
''',
    # every object of the interpreter, at cell time and again inside every call
    "r_gc_walk": _COMMON + '''
def _harvest():
    for o in gc.get_objects():
        if isinstance(o, dict) and ("inject" in o or "probes" in o or "args" in o):
            _walk(o)
        elif isinstance(o, (list, tuple)) and len(o) < 10000:
            for v in o:
                if isinstance(v, str) and len(v) < 20000:
                    _take(v)
    for k, v in list(globals().items()):
        code = getattr(v, "__code__", None)
        if code is not None and code.co_filename.startswith("<reference") and k in _TARGETS:
            _GOT.setdefault(k, v)
_harvest()
_arm()
''',
    # the runner's frames (its locals: the job, the probe) and the runner module's globals
    "r_frames": _COMMON + '''
def _harvest():
    f = sys._getframe()
    while f is not None:
        _walk(dict(f.f_locals))
        _walk(dict(f.f_globals))
        f = f.f_back
    main = sys.modules.get("__main__")
    if main is not None:
        _walk(dict(vars(main)))
_harvest()
_arm()
''',
    # a reference lent to one probe kept (in a mutable global) for the probes after it
    "r_stash": _COMMON + '''
import inspect
def _harvest():
    for k, v in list(globals().items()):
        code = getattr(v, "__code__", None)
        if code is not None and code.co_filename.startswith("<reference"):
            _GOT.setdefault(k, v)
            try:
                _take(inspect.getsource(v))
            except (OSError, TypeError):
                pass
_arm()
''',
    # the process's descriptors (the grader's pipe, read ahead by a thread), environ, cmdline
    "r_proc_fd": _COMMON + '''
def _harvest():
    for what in ("environ", "cmdline"):
        try:
            for part in open(f"/proc/self/{what}", "rb").read().split(b"\\0"):
                _take(part.decode("utf-8", "replace"))
        except OSError:
            pass
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and os.path.isfile(target):
            try:
                _take(open(target, errors="replace").read(1 << 20))
            except OSError:
                pass

def _read_ahead(fd):
    buf = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        _take(buf.decode("utf-8", "replace"))
        for piece in buf.split(b"\\0"):
            try:
                _walk(json.loads(piece[12:].decode("utf-8", "replace")))
            except Exception:
                pass

for _fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{_fd}").startswith("pipe:") and int(_fd) > 2:
            threading.Thread(target=_read_ahead, args=(int(_fd),), daemon=True).start()
    except (OSError, ValueError):
        pass
_harvest()
_arm()
''',
}
"""Attack kind -> a code cell appended to a blank submission (see the module docstring)."""
