"""The Python the hub's users run: the course's .venv, through an interpreter they may execute.

A single-user server runs as its user, not as root. The course's ``.venv`` is readable by
everyone, but its interpreter is a link to the Python it was made from, which may sit where
other users cannot go (pyenv under /root, mode 700, as on CI). The hub then gets a small venv of
its own, ``ROOT/venv``: the same packages (its site-packages, share/ and etc/ are links to the
course's), run by a Python of the same minor version that everyone may execute (the base
interpreter itself when it is reachable, else the distribution's /usr/bin/python3.X). Console
scripts are copied with their first line pointing at it, and a ``python3`` kernelspec names it.
When no such Python exists, setup stops and says what to install.
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
import sysconfig
from pathlib import Path

MINOR = f"python{sys.version_info.major}.{sys.version_info.minor}"


def usable_by_others(path: Path) -> bool:
    """Every folder on the way searchable and the file executable by other users."""
    path = path.resolve()
    if not path.is_file() or not path.stat().st_mode & stat.S_IXOTH:
        return False
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in path.parents)


def shared_interpreter() -> Path:
    base = Path(sys._base_executable if hasattr(sys, "_base_executable") else sys.executable)
    candidates = [base, Path(f"/usr/bin/{MINOR}"), Path(f"/usr/local/bin/{MINOR}")]
    for candidate in candidates:
        if candidate.is_file() and usable_by_others(candidate):
            return candidate
    raise PermissionError(
        f"The hub's users cannot run the course's Python ({base.resolve()} is not reachable by other users) and "
        f"there is no {MINOR} they can run: install one (`apt-get install {MINOR}`), or make the interpreter "
        f"reachable (`chmod o+x` on each folder above it), then run `make hub` again."
    )


def build(venv: Path, course_venv: Path = Path(sys.prefix)) -> Path:
    """ROOT/venv from the course's venv (rebuilt each time: it holds only links and small files)."""
    interpreter = shared_interpreter()
    if venv.exists():
        shutil.rmtree(venv)
    (venv / "bin").mkdir(parents=True)
    (venv / "lib").mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()  # no link chain: the sandbox binds the target
    (venv / "lib" / MINOR).mkdir()
    (venv / "lib" / MINOR / "site-packages").symlink_to(site_packages)
    for name in ("share", "etc"):
        if (course_venv / name).exists():
            (venv / name).symlink_to((course_venv / name).resolve())
    version = ".".join(map(str, sys.version_info[:3]))
    (venv / "pyvenv.cfg").write_text(f"home = {interpreter.parent}\ninclude-system-site-packages = false\nversion = {version}\n")
    python = venv / "bin" / MINOR
    python.symlink_to(interpreter)
    for alias in ("python", "python3"):
        (venv / "bin" / alias).symlink_to(MINOR)
    # console scripts (jupyterhub-singleuser, nbgrader, alembic, jupyter ...), first line re-pointed
    course_bin = course_venv / "bin"
    for script in sorted(course_bin.iterdir()):
        target = venv / "bin" / script.name
        if target.exists() or script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            first = handle.readline()
        if first.startswith(b"#!") and b"python" in first:
            body = script.read_bytes().split(b"\n", 1)[1]
            target.write_bytes(b"#!" + str(python).encode() + b"\n" + body)
            target.chmod(0o755)
    # the course's python3 kernel, run by this venv's interpreter (JUPYTER_PATH puts it first)
    spec = json.loads((course_venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
    spec["argv"][0] = str(python)
    kernels = venv / "kernels" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    for path in [venv, *venv.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755)
    return venv


def jupyter_path(venv: Path) -> str:
    return str(venv / "kernels")
