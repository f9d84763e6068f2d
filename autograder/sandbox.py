"""Each graded notebook's kernel runs in a bubblewrap (``bwrap``) sandbox.

nbgrader runs student code with the grader's permissions. Here the kernel that
``GradedCellsExecute`` starts is wrapped in ``bwrap`` instead:

- no network (its own, empty network namespace); it talks to nbgrader over Unix sockets
  (jupyter_client's ``ipc`` transport) in a private folder made for that kernel;
- a filesystem of its own: the system (``/usr``, ``/etc``), the Python installation, the venv
  and the course's ``helpers`` package, all read-only; the notebook's folder and ``/tmp`` are
  empty size-limited tmpfs (the notebook itself read-only inside), thrown away afterwards. The
  course's ImageNet weight files the grader has cached, and the offline mirror, are read-only
  (``weights.py``). The gradebook, grades.csv, the feedback, other students' files, the
  instructor's sources and home are not mounted at all;
- its own process namespace (it sees only its own processes and cannot signal the grader's),
  and it dies with the grader (``--die-with-parent``);
- limits: address space (``TL_COURSE_SANDBOX_MEMORY_MB``), processes and threads
  (``TL_COURSE_SANDBOX_PROCESSES``), file size, and the size of its two tmpfs
  (``TL_COURSE_SANDBOX_DISK_MB``). ``RLIMIT_NPROC`` is not enforced for root, so when grading
  runs as root the kernel drops to an unprivileged uid inside the sandbox first; otherwise bwrap
  puts it in a user namespace of its own, where the limit counts only the sandbox's processes.
  These limits are per process: the machine here has no delegated cgroup v2 to cap a notebook as
  a whole (``notebook_limits_note`` says which applies);
- nothing of a submission runs with privileges: as root, bwrap keeps only CAP_SETUID/CAP_SETGID,
  and its first process is ``setpriv`` (a C program, no search path), which drops to the sandbox
  uid and clears every capability before Python starts; the launcher then runs isolated
  (``python -I -S``: neither the notebook's folder nor site-packages on ``sys.path``), sets the
  limits, installs a seccomp filter (no new user namespace, no TIOCSTI keystroke injection) and
  execs the kernel. Only the notebook files (``*.ipynb``) are bound in, never other submitted files;
- ``--new-session`` (no controlling terminal) and the kernel's stderr goes to a log file, shown
  with control characters escaped, never raw on the grader's terminal;
- only an exact list of environment variables passes in (``KEPT_VARIABLES``), never a prefix.

``TL_COURSE_SANDBOX=off`` (``make grade SANDBOX=off``) grades without it, with a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session

from helpers.config import env_flag, env_int, env_text

from . import seccomp, weights

SWITCH_VARIABLE = "TL_COURSE_SANDBOX"
MEMORY_VARIABLE = "TL_COURSE_SANDBOX_MEMORY_MB"
PROCESSES_VARIABLE = "TL_COURSE_SANDBOX_PROCESSES"
DISK_VARIABLE = "TL_COURSE_SANDBOX_DISK_MB"
# A TensorFlow kernel reserves about 4.3 GB of address space on import (measured), and threads
# count as processes (TensorFlow and torch start one per core and pool).
DEFAULTS = {MEMORY_VARIABLE: 8192, PROCESSES_VARIABLE: 1024, DISK_VARIABLE: 512}
FIX = (
    "install bubblewrap with `make sandbox` (or `sudo apt-get install bubblewrap`), or grade without "
    "a sandbox with `make grade SANDBOX=off` (student code then runs with your permissions)"
)
UNSANDBOXED_NOTE = "graded WITHOUT the sandbox (SANDBOX=off): student code ran with the grader's permissions"
# uids the kernels run as when grading runs as root (no passwd entry needed): far above the
# ranges others hand out (systemd's dynamic users 61184-65519, nspawn's 524288-1879048191,
# /etc/subuid), and each one checked free before use (``sandbox_uid``)
SANDBOX_UID_BASE = 1_900_000_000
SANDBOX_UID_SPAN = 100_000
_SYSTEMD_DYNAMIC = range(61184, 65520)

# Environment variables the kernel may see, by exact name: the course's settings, never a prefix
# (JPY_API_TOKEN, NBGRADER_*, LANGCHAIN_*, TF_VAR_* ... hold the grader's secrets).
KEPT_VARIABLES = frozenset(
    {
        "TL_COURSE_QUICK",
        "TL_COURSE_MODE",
        "TL_COURSE_OFFLINE",
        "TL_COURSE_ALLOW_RANDOM_WEIGHTS",
        "TL_COURSE_MIRROR",
        "TL_COURSE_CACHE",
        "TL_COURSE_DEVICE",
        "NBGRADER_EXECUTION",
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_CPP_MAX_VLOG_LEVEL",
        "TF_ENABLE_ONEDNN_OPTS",
        "TF_NUM_INTEROP_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_FORCE_GPU_ALLOW_GROWTH",
        "TF_USE_LEGACY_KERAS",
        "KERAS_BACKEND",
        "MPLBACKEND",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "CUDA_VISIBLE_DEVICES",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "LC_NUMERIC",
        "LC_MESSAGES",
        "PYDEVD_DISABLE_FILE_VALIDATION",
        "JUPYTER_PLATFORM_DIRS",
    }
)
# Caches of data the lessons read: mounted read-only when they exist. The frameworks' weight
# caches are not mounted whole: the course's weight files in them are, one by one (weights.py).
_READ_ONLY_DATA = ("TL_COURSE_MIRROR", "TL_COURSE_CACHE")

# Run inside the sandbox after setpriv (already unprivileged), as ``python -I -S -c``: limits,
# a seccomp filter, then the kernel. Standard library only; nothing from the notebook's folder.
_LAUNCHER = """
import json, os, resource, sys

settings = json.loads(sys.argv[1])
for name, value in settings["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if os.getuid() == 0 or os.geteuid() == 0:
    sys.exit("sandbox launcher: still root, refusing to start the kernel")
with open("/proc/self/status") as status:
    caps = [line.split()[1] for line in status if line.startswith(("CapEff", "CapPrm"))]
if any(int(value, 16) for value in caps):
    sys.exit("sandbox launcher: capabilities left, refusing to start the kernel")
if settings["seccomp"]:
    import ctypes, struct
    libc = ctypes.CDLL(None, use_errno=True)
    program = bytes.fromhex(settings["seccomp"])
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    fbuf = ctypes.create_string_buffer(fprog)
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fbuf, 0, 0):
        sys.exit(f"sandbox launcher: seccomp filter refused (errno {ctypes.get_errno()})")
os.execv(sys.argv[2], sys.argv[2:])
"""


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot start a sandbox here."""


def sandbox_enabled() -> bool:
    """On unless switched off explicitly: unset or empty means on (the safe side)."""
    return env_flag(SWITCH_VARIABLE, default=True) if env_text(SWITCH_VARIABLE) else True


def _setting(name: str) -> int:
    return env_int(name, DEFAULTS[name])


@lru_cache(maxsize=None)
def _probe(bwrap: str) -> str:
    """'' when bwrap can build the namespaces grading needs here, else its error."""
    try:
        result = subprocess.run(
            [
                bwrap,
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--unshare-net",
                "--unshare-pid",
                "--unshare-ipc",
                "--die-with-parent",
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return "" if result.returncode == 0 else (result.stderr.strip() or f"exit status {result.returncode}")


def require_sandbox() -> str:
    """The path of a working ``bwrap``; ``SandboxUnavailable`` saying what to do otherwise."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable(f"grading runs each notebook in a sandbox, but bwrap (bubblewrap) is not installed: {FIX}")
    if os.geteuid() == 0 and not os.access(_SETPRIV, os.X_OK):
        raise SandboxUnavailable(
            f"grading as root drops each kernel to an unprivileged uid with {_SETPRIV}, "
            "which is missing: install util-linux (apt-get install util-linux), or grade "
            "as an ordinary user"
        )
    error = _probe(bwrap)
    if error:
        raise SandboxUnavailable(
            f"bwrap cannot create a sandbox on this machine ({error}). Unprivileged user namespaces may be "
            "disabled (sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap); "
            f"or {FIX}"
        )
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


def notebook_limits_note() -> str:
    """How memory and processes are capped: per process here, since no cgroup v2 is delegated
    to grading (a notebook-wide cap needs one: ``systemd-run --scope`` or a writable cgroup2)."""
    controllers = Path("/sys/fs/cgroup/cgroup.controllers")
    limits = (
        f"{_setting(MEMORY_VARIABLE)} MB of address space and {_setting(PROCESSES_VARIABLE)} processes "
        f"per process, {_setting(DISK_VARIABLE)} MB per tmpfs"
    )
    if not controllers.is_file():
        return (
            f"no cgroup v2 on this machine (cgroup v1 or none): each kernel is capped per process only "
            f"({limits}); several processes of one notebook together can use more"
        )
    return f"cgroup v2 is present but grading does not place kernels in it yet: each kernel is capped per process only ({limits})"


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


def _subordinate_ranges() -> list[range]:
    """uid ranges /etc/subuid and /etc/subgid hand to users' own user namespaces."""
    ranges = []
    for name in ("/etc/subuid", "/etc/subgid"):
        try:
            lines = Path(name).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.strip().split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                ranges.append(range(int(parts[1]), int(parts[1]) + int(parts[2])))
    return ranges


def _uids_in_use() -> set[int]:
    """Real uids of the machine's running processes (those this process can see)."""
    used = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    used.update(int(value) for value in line.split()[1:])
                    break
        except (OSError, ValueError):
            continue
    return used


def uid_is_free(uid: int, in_use: set[int] | None = None) -> bool:
    """No passwd entry, no process, not systemd's dynamic users nor anyone's subordinate uids."""
    import grp
    import pwd

    if uid in _SYSTEMD_DYNAMIC or any(uid in r for r in _subordinate_ranges()):
        return False
    try:
        pwd.getpwuid(uid)
        return False
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return False
    except KeyError:
        pass
    return uid not in (_uids_in_use() if in_use is None else in_use)


@lru_cache(maxsize=None)
def _chosen_uid(pid: int) -> int:
    in_use = _uids_in_use()
    for step in range(SANDBOX_UID_SPAN):
        uid = SANDBOX_UID_BASE + (pid + step) % SANDBOX_UID_SPAN
        if uid_is_free(uid, in_use):
            return uid
    raise SandboxUnavailable(f"no free uid for the sandbox in {SANDBOX_UID_BASE}-{SANDBOX_UID_BASE + SANDBOX_UID_SPAN - 1}")


def sandbox_uid() -> int:
    """An unprivileged, unused uid per grading process (kernels graded at once don't share a
    process count), checked free once per process (``uid_is_free``)."""
    return _chosen_uid(os.getpid())


def bwrap_command(
    bwrap: str, kernel_cmd: list[str], cwd: Path, runtime: Path, env: dict, declared: dict[str, Path] | None = None
) -> list[str]:
    """The command that runs ``kernel_cmd`` in the sandbox (see the module docstring).

    ``declared``: other files the lesson declares (name -> the instructor's copy), bound in
    beside the notebook from the instructor's copy, never the student's."""
    disk = _setting(DISK_VARIABLE) * 2**20
    mounts = _Mounts()
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"):
        mounts.system_dir(Path("/") / name)
    mounts.args += ["--dev", "/dev", "--proc", "/proc"]
    mounts.add("--size", str(disk), "--tmpfs", dest=Path("/dev/shm"))
    mounts.add("--size", str(disk), "--tmpfs", dest=Path("/tmp"))
    # the grader's cached ImageNet weights, file by file and read-only, in the kernel's own caches:
    # no network here, and HOME=/tmp hides the grader's caches (weights.py)
    cache_folders = weights.kernel_cache_folders()
    for folder in cache_folders:
        mounts.add("--dir", dest=folder)
    for source, dest in weights.sandbox_mounts():
        mounts.read_only(source, dest)
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).resolve()
    for path in {base, venv}:
        if not any(str(path).startswith(f"{other}/") for other in ("/usr", "/etc")):
            mounts.read_only(path)
    if Path(sys.prefix) != venv:  # a venv reached through a symlink (.venv -> elsewhere)
        mounts.add("--symlink", str(venv), dest=Path(sys.prefix))
    # a venv whose site-packages is a link to another venv's (the course hub's, coursehub/runtime.py)
    for site_dir in sorted({Path(p) for p in site.getsitepackages()}):
        real = site_dir.resolve()
        if real != site_dir and real.is_dir() and not any(real.is_relative_to(p) for p in (base, venv)):
            mounts.read_only(real)
    _, package = _code_roots()
    mounts.read_only(package)
    for name in _READ_ONLY_DATA:
        if env.get(name) and Path(env[name]).is_dir():
            mounts.read_only(Path(env[name]).resolve(), Path(env[name]))
    # the notebook's folder: an empty, size-limited, writable tmpfs holding read-only copies of its
    # notebooks only: nbgrader copies every submitted file there (a json.py, a sitecustomize.py ...)
    mounts.add("--size", str(disk), "--tmpfs", dest=cwd)
    for entry in sorted(cwd.iterdir()) if cwd.is_dir() else []:
        if entry.suffix == ".ipynb" and entry.is_file() and not entry.is_symlink():
            mounts.read_only(entry)
    for name, source in sorted((declared or {}).items()):
        if "/" not in name and name not in ("", ".", "..") and source.is_file():
            mounts.read_only(source, cwd / name)
    mounts.args += ["--chmod", "1777", str(cwd), "--chmod", "1777", "/tmp", "--chmod", "1777", "/dev/shm"]
    for folder in cache_folders:  # writable by the kernel, as /tmp: seeding from the mirror copies into them
        mounts.args += ["--chmod", "1777", str(folder)]
    mounts.add("--bind", str(runtime), dest=runtime)  # the kernel's sockets and connection file
    namespaces = [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "grader",
        "--die-with-parent",
        "--new-session",
        "--chdir",
        str(cwd),
        # jupyter_client adds the grader's pid, which means nothing in the sandbox's
        # pid namespace (ipykernel would exit at once); --die-with-parent does that job
        "--unsetenv",
        "JPY_PARENT_PID",
    ]
    root = os.geteuid() == 0
    if not root:  # unprivileged bwrap: its own user namespace (where NPROC counts the sandbox only)
        namespaces += ["--unshare-user"] + (["--disable-userns"] if _bwrap_has("--disable-userns", bwrap) else [])
    else:  # privileged bwrap: setpriv needs these three to drop to the sandbox uid, nothing else
        namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    settings = json.dumps(
        {
            "seccomp": seccomp.program().hex(),
            "limits": {
                "RLIMIT_AS": _setting(MEMORY_VARIABLE) * 2**20,
                "RLIMIT_NPROC": _setting(PROCESSES_VARIABLE),
                "RLIMIT_FSIZE": disk,
                "RLIMIT_CORE": 0,
            },
        }
    )
    python = str(venv / "bin" / "python")
    kernel_python = _real_venv_path(kernel_cmd[0])
    if kernel_python.parent.parent != venv:  # a kernelspec pointing at another environment: mount it too
        mounts.read_only(kernel_python.parent.parent)
    command = [str(kernel_python), *kernel_cmd[1:]]
    launcher = [python, "-I", "-S", "-c", _LAUNCHER, settings, *command]
    if root:  # drop to the sandbox uid before any Python starts (setpriv: a C program, no search path)
        uid = str(sandbox_uid())
        launcher = [
            _SETPRIV,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
            *launcher,
        ]
    return [bwrap, *mounts.args, *namespaces, "--", *launcher]


_SETPRIV = "/usr/bin/setpriv"


@lru_cache(maxsize=None)
def _bwrap_has(option: str, bwrap: str = "bwrap") -> bool:
    """Whether this bwrap knows ``option`` (``--disable-userns`` came with bubblewrap 0.8)."""
    try:
        return option in subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


def _real_venv_path(executable: str) -> Path:
    """``executable`` with its folders' symlinks resolved, but not its own (a venv's ``python`` is a
    symlink to the base interpreter, which would lose the venv)."""
    path = Path(shutil.which(executable) or executable)
    return Path(os.path.realpath(path.parent)) / path.name


def sandbox_env(env: dict) -> dict:
    """The kernel's environment: the course's settings only (no tokens or keys of the grader)."""
    root, _ = _code_roots()
    venv = Path(sys.prefix)
    kept = {k: v for k, v in env.items() if k in KEPT_VARIABLES}
    for name in _READ_ONLY_DATA:
        if env.get(name) and not Path(env[name]).is_dir():
            kept.pop(name, None)
    kept.update(
        {
            "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "PYTHONPATH": str(root),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "IPYTHONDIR": "/tmp/.ipython",
            "MPLCONFIGDIR": "/tmp/.matplotlib",
            **weights.kernel_env(),  # where the grader's weight files are (bwrap_command)
        }
    )
    kept.setdefault("TL_COURSE_CACHE", "/tmp/tl-course-cache")
    return kept


# ---------------------------------------------------------------------------- the kernel manager


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in bwrap and talk over Unix sockets."""

    declared_files: dict[str, Path] = {}  # set per notebook by GradedCellsExecute (the lesson's other files)

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
        os.chown(self._runtime, owner, owner, follow_symlinks=False)
        os.chmod(self._runtime, 0o700 if writable else 0o711)
        # the kernel could have replaced its connection file with a symlink to a host file:
        # never chown through it
        if os.path.lexists(self.connection_file):
            os.chown(self.connection_file, owner, owner, follow_symlinks=False)

    async def _async_pre_start_kernel(self, **kw):
        self.kernel_spec.interrupt_mode = "message"  # a signal would reach bwrap, not the kernel
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        cwd = Path(kw.get("cwd") or os.getcwd()).resolve()
        env = kw.get("env") or dict(os.environ)
        kw["env"] = sandbox_env(env)
        kw["cwd"] = str(self._runtime)  # bwrap's own cwd; the kernel's is set by --chdir
        kw.setdefault("stdout", subprocess.DEVNULL)  # ipykernel's "To connect another client..." banner
        # the kernel's stderr into a log file (its size capped by RLIMIT_FSIZE), shown escaped
        # when the kernel ends: raw, it could write escape sequences to the grader's terminal
        self._stderr_log = tempfile.TemporaryFile(prefix="tl-sandbox-stderr-")
        kw["stderr"] = self._stderr_log
        self._open_runtime(writable=True)
        return bwrap_command(self._bwrap, kernel_cmd, cwd, self._runtime, env, self.declared_files), kw

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
        self._show_stderr()
        if not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)

    def _show_stderr(self) -> None:
        """The end of the kernel's stderr, control characters escaped, in the grader's log."""
        log = getattr(self, "_stderr_log", None)
        if log is None:
            return
        self._stderr_log = None
        try:
            log.seek(0, 2)
            size = log.tell()
            log.seek(max(0, size - 4000))
            text = log.read().decode("utf-8", "replace")
        finally:
            log.close()
        if text.strip():
            self.log.warning("sandboxed kernel stderr (last %d bytes, escaped):\n%s", min(size, 4000), escape_control(text))


def escape_control(text: str) -> str:
    """``text`` with every control character but newline and tab shown as an escape (\\x1b ...)."""
    return "".join(
        ch if ch in "\n\t" or (ch.isprintable() and ch not in "\x7f") else ch.encode("unicode_escape").decode() for ch in text
    )
