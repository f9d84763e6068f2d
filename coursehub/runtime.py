"""The Python the hub's users run: the course's .venv, through an interpreter they may execute.

A single-user server runs as its user, not as root. The course's ``.venv`` is readable by
everyone, but its interpreter is a link to the Python it was made from, which may sit where
other users cannot go (pyenv under /root, mode 700, as on CI and here). The hub then gets a small
venv of its own, ``ROOT/venv``: the same packages (its site-packages, share/ and etc/ are links to
the course's), run by the same Python, made reachable: the base interpreter itself when others
may run it, else a copy of its installation (standard library hard-linked where possible, without
its own site-packages) in ``ROOT/python``, whose library search path is pointed at the copy.
Another Python of the same minor version is not good enough: Debian's 3.11.2 fails to compile
soupsieve's selectors (nbconvert's HTML export, formgrader's feedback) where pyenv's 3.11.7 works.
Console scripts are copied with their first line pointing at it, and a ``python3`` kernelspec
names it.
"""

from __future__ import annotations

import json
import os
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


def base_interpreter() -> Path:
    return Path(getattr(sys, "_base_executable", sys.executable)).resolve()


def shared_interpreter(root: Path) -> Path:
    """The course's Python, or a reachable copy of its installation under ``root / "python"``."""
    base = base_interpreter()
    if usable_by_others(base):
        return base
    prefix = Path(sys.base_prefix).resolve()
    copy = root / "python"
    python = copy / "bin" / base.name
    if not python.is_file():
        _copy_installation(prefix, copy)
    return python


def _copy_installation(prefix: Path, copy: Path) -> None:
    if copy.exists():
        shutil.rmtree(copy)

    def link_or_copy(source, target):
        try:
            os.link(source, target)  # same filesystem: no data copied
        except OSError:
            shutil.copy2(source, target)

    skip = {prefix / "lib" / MINOR / name for name in ("site-packages", "test", "idlelib", "tkinter", "turtledemo")}
    shutil.copytree(
        prefix / "lib",
        copy / "lib",
        symlinks=True,
        copy_function=link_or_copy,
        ignore=lambda folder, names: [n for n in names if Path(folder) / n in skip or n == "__pycache__"],
    )
    (copy / "lib" / MINOR / "site-packages").mkdir()
    (copy / "bin").mkdir(parents=True)
    binary = copy / "bin" / base_interpreter().name
    shutil.copy2(base_interpreter(), binary)  # a real copy: its library path is rewritten below
    _point_runpath_at_copy(binary, prefix)
    for path in [copy, *copy.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)


def _point_runpath_at_copy(binary: Path, prefix: Path) -> None:
    """A shared-library Python finds libpython through its RUNPATH, an absolute path into the original
    installation: rewrite it in place to ``$ORIGIN/../lib`` (shorter, NUL-padded; ELF strings end at NUL)."""
    data = bytearray(binary.read_bytes())
    old = str(prefix / "lib").encode()
    new = b"$ORIGIN/../lib"
    count = data.count(old + b"\0")
    if count == 0:
        return  # a static Python, or a relative RUNPATH already
    if count != 1 or len(new) > len(old):
        raise RuntimeError(f"cannot relocate {binary}: its library path {old.decode()} appears {count} times")
    at = data.index(old + b"\0")
    data[at : at + len(old)] = new + b"\0" * (len(old) - len(new))
    binary.write_bytes(bytes(data))


def build(venv: Path, course_venv: Path = Path(sys.prefix)) -> Path:
    """ROOT/venv from the course's venv (rebuilt each time: it holds only links and small files)."""
    interpreter = shared_interpreter(venv.parent)
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
