"""Each graded notebook's kernel runs in a bubblewrap (``bwrap``) sandbox.

nbgrader runs student code with the grader's permissions. Here the kernel that
``GradedCellsExecute`` starts is wrapped in ``bwrap`` instead:

- no network (its own, empty network namespace); it talks to nbgrader over Unix sockets
  (jupyter_client's ``ipc`` transport) in a private folder made for that kernel;
- a filesystem of its own: the system (``/usr``, ``/etc``), the Python installation, the venv
  and the course's ``helpers`` package, all read-only; the notebook's folder and ``/tmp`` are
  empty size-limited tmpfs (the notebook itself read-only inside), thrown away afterwards. The
  gradebook, grades.csv, the feedback, other students' files, the instructor's sources and home
  are not mounted at all;
- its own process namespace (it sees only its own processes and cannot signal the grader's),
  and it dies with the grader (``--die-with-parent``);
- limits: address space (``TL_COURSE_SANDBOX_MEMORY_MB``), processes and threads
  (``TL_COURSE_SANDBOX_PROCESSES``), file size, and the size of its two tmpfs
  (``TL_COURSE_SANDBOX_DISK_MB``). ``RLIMIT_NPROC`` is not enforced for root, so when grading
  runs as root the kernel drops to an unprivileged uid inside the sandbox first; otherwise bwrap
  puts it in a user namespace of its own, where the limit counts only the sandbox's processes.

``TL_COURSE_SANDBOX=off`` (``make grade SANDBOX=off``) grades without it, with a warning.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session

from helpers.flags import env_flag

SWITCH_VARIABLE = "TL_COURSE_SANDBOX"
MEMORY_VARIABLE = "TL_COURSE_SANDBOX_MEMORY_MB"
PROCESSES_VARIABLE = "TL_COURSE_SANDBOX_PROCESSES"
DISK_VARIABLE = "TL_COURSE_SANDBOX_DISK_MB"
# A TensorFlow kernel reserves about 4.3 GB of address space on import (measured), and threads
# count as processes (TensorFlow and torch start one per core and pool).
DEFAULTS = {MEMORY_VARIABLE: 8192, PROCESSES_VARIABLE: 1024, DISK_VARIABLE: 512}
FIX = ("install bubblewrap with `make sandbox` (or `sudo apt-get install bubblewrap`), or grade without "
       "a sandbox with `make grade SANDBOX=off` (student code then runs with your permissions)")
UNSANDBOXED_NOTE = "graded WITHOUT the sandbox (SANDBOX=off): student code ran with the grader's permissions"
SANDBOX_UID_BASE = 61000  # uids the kernels run as when grading runs as root (no passwd entry needed)

# Environment variables the kernel may see: the course's settings, not the grader's secrets.
_KEPT_PREFIXES = ("TL_COURSE_", "NBGRADER_", "TF_", "KERAS_BACKEND", "MPLBACKEND", "OMP_", "MKL_",
                  "OPENBLAS_", "CUDA_VISIBLE_DEVICES", "LANG", "LC_", "JPY_", "PYDEVD_", "JUPYTER_PLATFORM_DIRS")
# Caches of data and weights the lessons read: mounted read-only when they exist.
_READ_ONLY_DATA = ("TL_COURSE_MIRROR", "TL_COURSE_CACHE", "TORCH_HOME", "KERAS_HOME")

# Run inside the sandbox, as its first process: limits, then an unprivileged uid, then the kernel.
_LAUNCHER = """
import json, os, resource, sys

settings = json.loads(sys.argv[1])
for name, value in settings["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if os.getuid() == 0:
    os.setgroups([])
    os.setgid(settings["uid"])
    os.setuid(settings["uid"])
os.execv(sys.argv[2], sys.argv[2:])
"""


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot start a sandbox here."""


def sandbox_enabled() -> bool:
    """On unless switched off explicitly: unset or empty means on (the safe side)."""
    if not os.environ.get(SWITCH_VARIABLE, "").strip():
        return True
    return env_flag(SWITCH_VARIABLE)


def _setting(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number; unset it or use e.g. {name}={DEFAULTS[name]}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@lru_cache(maxsize=None)
def _probe(bwrap: str) -> str:
    """'' when bwrap can build the namespaces grading needs here, else its error."""
    try:
        result = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
             "--unshare-pid", "--unshare-ipc", "--die-with-parent", "true"],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return "" if result.returncode == 0 else (result.stderr.strip() or f"exit status {result.returncode}")


def require_sandbox() -> str:
    """The path of a working ``bwrap``; ``SandboxUnavailable`` saying what to do otherwise."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable(f"grading runs each notebook in a sandbox, but bwrap (bubblewrap) is not installed: {FIX}")
    error = _probe(bwrap)
    if error:
        raise SandboxUnavailable(
            f"bwrap cannot create a sandbox on this machine ({error}). Unprivileged user namespaces may be "
            "disabled (sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap); "
            f"or {FIX}")
    return bwrap


def check_for_grading(echo=print) -> str:
    """Before a grading run: '' when kernels will be sandboxed, else the warning for grades.csv.

    Raises ``SandboxUnavailable`` (with the fix) when the sandbox is on but cannot work.
    """
    if sandbox_enabled():
        require_sandbox()
        return ""
    echo(f"WARNING: {UNSANDBOXED_NOTE}")
    return UNSANDBOXED_NOTE


def kernel_manager_class() -> type[AsyncKernelManager]:
    """The kernel manager autograding uses: sandboxed unless ``TL_COURSE_SANDBOX=off``."""
    return SandboxedKernelManager if sandbox_enabled() else AsyncKernelManager


# ---------------------------------------------------------------------------- the bwrap command


def _parents(path: Path) -> list[Path]:
    return list(reversed(path.parents))[1:]  # without "/"


class _Mounts:
    """bwrap arguments; folders bwrap creates on the way to a mount get mode 0755 (not 0700),
    so that the unprivileged kernel can walk into what is mounted there."""

    def __init__(self):
        self.args: list[str] = []
        self._dirs: set[Path] = set()

    def _ensure_parents(self, dest: Path) -> None:
        for parent in _parents(dest):
            if parent not in self._dirs:
                self._dirs.add(parent)
                self.args += ["--perms", "0755", "--dir", str(parent)]

    def add(self, *args: str, dest: Path) -> None:
        self._ensure_parents(dest)
        self.args += [*args, str(dest)]
        self._dirs.add(dest)

    def read_only(self, source: Path, dest: Path | None = None) -> None:
        self.add("--ro-bind", str(source), dest=dest or source)

    def system_dir(self, path: Path) -> None:
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            self.add("--symlink", os.readlink(path), dest=path)
        elif path.is_dir():
            self.read_only(path)


def _code_roots() -> tuple[Path, Path]:
    """(folder holding ``helpers``, ``helpers`` itself) as the kernel imports them."""
    import helpers

    package = Path(helpers.__file__).resolve().parent
    return package.parent, package


def sandbox_uid() -> int:
    """An unprivileged uid per grading process (kernels graded at once don't share a process count)."""
    return SANDBOX_UID_BASE + os.getpid() % 4000


def bwrap_command(bwrap: str, kernel_cmd: list[str], cwd: Path, runtime: Path, env: dict) -> list[str]:
    """The command that runs ``kernel_cmd`` in the sandbox (see the module docstring)."""
    disk = _setting(DISK_VARIABLE) * 2**20
    mounts = _Mounts()
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"):
        mounts.system_dir(Path("/") / name)
    mounts.args += ["--dev", "/dev", "--proc", "/proc"]
    mounts.add("--size", str(disk), "--tmpfs", dest=Path("/dev/shm"))
    mounts.add("--size", str(disk), "--tmpfs", dest=Path("/tmp"))
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).resolve()
    for path in {base, venv}:
        if not any(str(path).startswith(f"{other}/") for other in ("/usr", "/etc")):
            mounts.read_only(path)
    if Path(sys.prefix) != venv:  # a venv reached through a symlink (.venv -> elsewhere)
        mounts.add("--symlink", str(venv), dest=Path(sys.prefix))
    _, package = _code_roots()
    mounts.read_only(package)
    for name in _READ_ONLY_DATA:
        if env.get(name) and Path(env[name]).is_dir():
            mounts.read_only(Path(env[name]).resolve(), Path(env[name]))
    # the notebook's folder: an empty, size-limited, writable tmpfs holding read-only copies of its files
    mounts.add("--size", str(disk), "--tmpfs", dest=cwd)
    for entry in sorted(cwd.iterdir()) if cwd.is_dir() else []:
        if entry.is_file() and not entry.is_symlink():
            mounts.read_only(entry)
    mounts.args += ["--chmod", "1777", str(cwd), "--chmod", "1777", "/tmp", "--chmod", "1777", "/dev/shm"]
    mounts.add("--bind", str(runtime), dest=runtime)  # the kernel's sockets and connection file
    namespaces = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                  "--hostname", "grader", "--die-with-parent", "--chdir", str(cwd),
                  # jupyter_client adds the grader's pid, which means nothing in the sandbox's
                  # pid namespace (ipykernel would exit at once); --die-with-parent does that job
                  "--unsetenv", "JPY_PARENT_PID"]
    if os.geteuid() != 0:  # unprivileged bwrap: its own user namespace (where NPROC counts the sandbox only)
        namespaces += ["--unshare-user", "--disable-userns"]
    settings = json.dumps({"uid": sandbox_uid(), "limits": {
        "RLIMIT_AS": _setting(MEMORY_VARIABLE) * 2**20,
        "RLIMIT_NPROC": _setting(PROCESSES_VARIABLE),
        "RLIMIT_FSIZE": disk,
        "RLIMIT_CORE": 0,
    }})
    python = str(venv / "bin" / "python")
    kernel_python = _real_venv_path(kernel_cmd[0])
    if kernel_python.parent.parent != venv:  # a kernelspec pointing at another environment: mount it too
        mounts.read_only(kernel_python.parent.parent)
    command = [str(kernel_python), *kernel_cmd[1:]]
    return [bwrap, *mounts.args, *namespaces, "--", python, "-c", _LAUNCHER, settings, *command]


def _real_venv_path(executable: str) -> Path:
    """``executable`` with its folders' symlinks resolved, but not its own (a venv's ``python`` is a
    symlink to the base interpreter, which would lose the venv)."""
    path = Path(shutil.which(executable) or executable)
    return Path(os.path.realpath(path.parent)) / path.name


def sandbox_env(env: dict) -> dict:
    """The kernel's environment: the course's settings only (no tokens or keys of the grader)."""
    root, _ = _code_roots()
    venv = Path(sys.prefix)
    kept = {k: v for k, v in env.items() if k.startswith(_KEPT_PREFIXES)}
    for name in _READ_ONLY_DATA:
        if env.get(name) and not Path(env[name]).is_dir():
            kept.pop(name, None)
    kept.update({
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTHONPATH": str(root),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": "/tmp/.ipython",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
    })
    kept.setdefault("TL_COURSE_CACHE", "/tmp/tl-course-cache")
    return kept


# ---------------------------------------------------------------------------- the kernel manager


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in bwrap and talk over Unix sockets."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        self._bwrap = require_sandbox()
        self._runtime = Path(tempfile.mkdtemp(prefix="tl-sandbox-"))
        self.ip = str(self._runtime / "kernel")
        self.connection_file = str(self._runtime / "connection.json")

    def _open_runtime(self, writable: bool) -> None:
        """While the kernel starts it creates its sockets here; then (as root) the folder is
        taken back, so a running kernel cannot fill the host's disk through it."""
        if os.geteuid() != 0:
            return
        owner = sandbox_uid() if writable else 0
        os.chown(self._runtime, owner, owner)
        os.chmod(self._runtime, 0o700 if writable else 0o711)
        if Path(self.connection_file).exists():
            os.chown(self.connection_file, owner, owner)

    async def _async_pre_start_kernel(self, **kw):
        self.kernel_spec.interrupt_mode = "message"  # a signal would reach bwrap, not the kernel
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        cwd = Path(kw.get("cwd") or os.getcwd()).resolve()
        env = kw.get("env") or dict(os.environ)
        kw["env"] = sandbox_env(env)
        kw["cwd"] = str(self._runtime)  # bwrap's own cwd; the kernel's is set by --chdir
        kw.setdefault("stdout", subprocess.DEVNULL)  # ipykernel's "To connect another client..." banner
        self._open_runtime(writable=True)
        return bwrap_command(self._bwrap, kernel_cmd, cwd, self._runtime, env), kw

    async def _async_post_start_kernel(self, **kw):
        await super()._async_post_start_kernel(**kw)
        # ipykernel writes its connection file again after binding its sockets: the folder is taken
        # back only once the kernel has answered (then it has finished starting up).
        # The probe needs a session of its own: a client made from this manager's session shares
        # its zmq identity with the grader's client, and after a restart the kernel's ROUTER socket
        # answers whichever of the two reconnected first (the other waits forever).
        client = self.client(session=Session(key=self.session.key, signature_scheme=self.session.signature_scheme))
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
        except (RuntimeError, TimeoutError):
            pass  # it died or hangs: nbclient reports it, as for any kernel
        finally:
            client.stop_channels()
            self._open_runtime(writable=False)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)
