"""Hostile submissions: solution cells that attack the grader instead of answering.

Each attack replaces one exercise's solution cell (so that exercise, and only it, loses its
points), tries one thing the sandbox must stop, and prints one line ``ATTACK <name>: <verdict>``
where the verdict starts with ``blocked`` when the attempt failed. Every attack is bounded, so a
broken sandbox costs the test machine a little, not its disk, memory or process table.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass
from pathlib import Path

from grading_corpus import Crafted, exercises

_REPORT = """
def _report(name, ok, detail):
    print(f"ATTACK {name}: {'blocked' if ok else 'SUCCEEDED'} ({detail})")
"""


@dataclass
class Targets:
    """What the attacks aim at (absolute paths on the grading machine)."""

    workspace: Path  # the grading folder: gradebook, grades.csv, feedback
    repo: Path  # the instructor's checkout (solutions/ holds hidden tests)
    lesson: str
    victim: str  # a student graded before the attackers
    port: int  # a listener the test opened on 127.0.0.1


# Secrets the grader's environment holds (JupyterHub sets JPY_API_TOKEN in every single-user
# server); the test sets them with these values and looks for the values in every file written.
SECRETS = {
    "JPY_API_TOKEN": "jpy-secret-4c1f",
    "JUPYTERHUB_API_TOKEN": "hub-secret-9d2e",
    "OPENAI_API_KEY": "key-secret-77aa",
    "GITHUB_TOKEN": "token-secret-51bc",
    "NBGRADER_DB_PASSWORD": "nbgrader-secret-0e3d",
    "LANGCHAIN_API_KEY": "langchain-secret-6f60",
    "TF_VAR_db_password": "tfvar-secret-a1a2",
}
# what a student's HTML output tries to run in the reader's browser (feedback, formgrader)
SCRIPT_PAYLOAD = (
    '<script>window.__tl_pwned = "script"</script>'
    '<img src="x" onerror="window.__tl_pwned = &quot;onerror&quot;">'
    '<a href="javascript:window.__tl_pwned=1" id="tl-link">link</a>'
    '<iframe srcdoc="&lt;script&gt;parent.__tl_pwned = 1&lt;/script&gt;"></iframe>'
)
# escape sequence a kernel writes to stderr: sets the title of the grader's terminal
TERMINAL_ESCAPE = "\x1b]0;tl-pwned-title\x07"


def _open(name: str, paths: list[Path], mode: str, action: str, verb: str) -> str:
    """Open each of ``paths`` in ``mode`` and run ``action`` on ``_handle``: blocked if none opens."""
    return f'''
_errors = []
for _path in {[str(p) for p in paths]!r}:
    try:
        with open(_path, {mode!r}) as _handle:
            {action}
        _report({name!r}, False, "{verb} " + _path)
        break
    except OSError as _err:
        _errors.append(type(_err).__name__)
else:
    _report({name!r}, True, ", ".join(sorted(set(_errors))))
'''


def _read(name: str, paths: list[Path]) -> str:
    return _open(name, paths, "rb", "_handle.read(64)", "read")


def _write(name: str, paths: list[Path]) -> str:
    return _open(name, paths, "r+b", '_handle.seek(0, 2); _handle.write(b"\\npwned,999,999\\n")', "wrote")


def _subprocess_attack(name: str, code: str, judge: str) -> str:
    """Run ``code`` in a child Python (a process of its own, as an attacker would); ``judge``
    reads its ``_out`` (stdout) and ``_rc`` and sets ``_ok`` (True: blocked) and ``_detail``."""
    return f"""
import subprocess as _subprocess, sys as _sys
_child = _subprocess.run([_sys.executable, "-c", {code!r}], capture_output=True, text=True, timeout=30)
_out, _rc = _child.stdout.strip(), _child.returncode
{judge}
_report({name!r}, _ok, _detail)
"""


def attacks(t: Targets) -> dict[str, str]:
    """Attack name -> solution-cell source."""
    nbgrader = t.workspace / "nbgrader"
    notebook = f"{t.lesson}.ipynb"
    victim = [nbgrader / "submitted" / t.victim / t.lesson / notebook, nbgrader / "autograded" / t.victim / t.lesson / notebook]
    sources = {
        "read_other_students_notebook": _read("read_other_students_notebook", victim),
        "read_gradebook": _read("read_gradebook", [nbgrader / "gradebook.db"]),
        "read_hidden_tests": _read(
            "read_hidden_tests", [t.workspace / "solutions" / t.lesson / notebook, t.repo / "solutions" / t.lesson / notebook]
        ),
        "write_gradebook": _write("write_gradebook", [nbgrader / "gradebook.db"]),
        "write_grades_csv": _write("write_grades_csv", [t.workspace / "grades.csv"]),
        "write_other_students_feedback": _write(
            "write_other_students_feedback", [nbgrader / "feedback" / t.victim / t.lesson / f"{t.lesson}.html"]
        ),
        "network": f"""
import socket as _socket
try:
    _socket.create_connection(("127.0.0.1", {t.port}), timeout=3).close()
    _report("network", False, "connected to the grader's host")
except OSError as _err:
    _report("network", True, type(_err).__name__ + ": " + str(_err))
""",
        # bounded: at most 4096 processes, each an exec'd `sleep` (no copy of the kernel's memory)
        "fork_bomb": """
import os as _os, signal as _signal
_children = []
try:
    for _ in range(4096):
        _children.append(_os.posix_spawn("/bin/sleep", ["sleep", "60"], {}))
    _report("fork_bomb", False, f"{len(_children)} processes started")
except OSError as _err:
    _report("fork_bomb", True, f"stopped after {len(_children)} processes: {type(_err).__name__}")
for _pid in _children:
    _os.kill(_pid, _signal.SIGKILL)
    _os.waitpid(_pid, 0)
""",
        # bounded: at most 64 GiB of address space, never touched (no real memory used without a limit)
        "allocate_memory": """
import mmap as _mmap
_chunks = []
try:
    for _ in range(256):
        _chunks.append(_mmap.mmap(-1, 256 * 2**20))
    _report("allocate_memory", False, f"{len(_chunks) / 4:g} GiB reserved")
except (OSError, MemoryError) as _err:
    _report("allocate_memory", True, f"stopped at {len(_chunks) / 4:g} GiB: {type(_err).__name__}")
for _chunk in _chunks:
    _chunk.close()
del _chunks
""",
        "kill_parent": """
import os as _os, signal as _signal
_parent = _os.getppid()
_visible = sorted(int(p) for p in _os.listdir("/proc") if p.isdigit())
try:  # never kill(-1): without a sandbox, as root, that would kill every process of the machine
    _os.kill(_parent, _signal.SIGKILL)
except OSError:
    pass
# the grader is outside this pid namespace: the kernel's parent is the sandbox's own init
_report("kill_parent", _parent == 1, f"parent pid {_parent}; processes visible: {_visible}")
""",
        # bounded: at most 1 GiB into the notebook's folder
        "fill_disk": """
_written = 0
try:
    with open("fill.bin", "wb") as _handle:
        for _ in range(1024):
            _handle.write(b"\\0" * 2**20)
            _handle.flush()
            _written += 1
    _report("fill_disk", False, f"{_written} MiB written")
except OSError as _err:
    _report("fill_disk", True, f"stopped at {_written} MiB: {type(_err).__name__}")
import os as _os
if _os.path.exists("fill.bin"):
    _os.remove("fill.bin")
""",
        "read_secrets": f"""
import os as _os
_names = {sorted(SECRETS)!r}
_seen = {{n: _os.environ[n] for n in _names if n in _os.environ}}
try:
    _seen["/proc/1/environ"] = open("/proc/1/environ", "rb").read().decode(errors="replace")
except OSError:
    pass
print(_seen)  # into the output: the feedback would carry it
_report("read_secrets", not any(n in _seen for n in _names), f"{{len(_seen)}} found")
""",
        # a user namespace of its own: full capabilities inside it (root mode without a filter)
        "user_namespace": _subprocess_attack(
            "user_namespace",
            """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:
    print("errno", ctypes.get_errno())
    sys.exit(0)
print([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0])
""",
            """
_ok = _out.startswith("errno") or _out.strip("0") == ""
_detail = "unshare(CLONE_NEWUSER): " + (_out or f"exit {_rc}")
""",
        ),
        # keystrokes pushed into a terminal: a pty the attacker owns stands in for the grader's
        "tiocsti": _subprocess_attack(
            "tiocsti",
            """
import fcntl, os, termios
os.setsid()
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
try:
    fcntl.ioctl(slave, termios.TIOCSTI, b"x")
    print("injected")
except OSError as err:
    print("refused", err.errno)
""",
            """
_ok = not _out.startswith("injected")
_detail = "TIOCSTI: " + (_out or f"exit {_rc}")
""",
        ),
        "html_script": f"""
from IPython.display import HTML as _HTML, Javascript as _Javascript, display as _display
_display(_HTML({SCRIPT_PAYLOAD!r}))
_display(_Javascript("window.__tl_pwned = 'javascript'"))
_report("html_script", True, "judged by the test: the autograded notebook and the feedback must be inert")
""",
        "terminal_escape": f"""
import os as _os
_os.write(2, {TERMINAL_ESCAPE!r}.encode())
_report("terminal_escape", True, "judged by the test: the grader's stderr must not carry it raw")
""",
    }
    return {name: _REPORT + textwrap.dedent(code) for name, code in sources.items()}


# Attackers: four attacks each, one per exercise (the lessons have at least four).
ATTACKERS = {
    "hostile_snoop": ["read_other_students_notebook", "read_gradebook", "read_hidden_tests", "network"],
    "hostile_vandal": ["write_gradebook", "write_grades_csv", "write_other_students_feedback", "fill_disk"],
    "hostile_denial": ["fork_bomb", "allocate_memory", "kill_parent", "terminal_escape"],
    "hostile_escalate": ["read_secrets", "user_namespace", "tiocsti", "html_script"],
}


def build(solution, targets: Targets) -> tuple[list[Crafted], dict[str, dict[str, str]]]:
    """Hostile submissions (correct everywhere but the attacked exercises), and for each
    student which attack sits in which exercise's solution cell."""
    sources = attacks(targets)
    ids = [exercise for exercise, _ in exercises(solution)]
    corpus, placed = [], {}
    for student, names in ATTACKERS.items():
        notebook = copy.deepcopy(solution)
        placed[student] = dict(zip(ids, names))
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in placed[student]:
                cell.source = sources[placed[student][grade_id]]
        corpus.append(Crafted(student, notebook, loses=set(placed[student])))
    return corpus, placed


def verdicts(autograded) -> dict[str, str]:
    """Attack name -> the line it printed, from an autograded notebook."""
    found = {}
    for cell in autograded.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith("ATTACK "):
                    name, _, verdict = line[len("ATTACK ") :].partition(": ")
                    found[name] = verdict
    return found
