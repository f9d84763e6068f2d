"""Unpacking ``.zip`` submissions safely (``make grade`` does it; nobody runs ``unzip`` by hand).

An archive comes from students (or an LMS's bulk download of their files), so it is refused
whole, with the reason, when any member is a symlink, an absolute path or one with ``..``, or
when it holds more than ``MAX_FILES`` members or more than ``MAX_BYTES`` once unpacked (counted
while writing, not from the archive's own headers, which can lie). Files are created fresh
(``O_EXCL | O_NOFOLLOW``), never through an existing link.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["MAX_BYTES", "MAX_FILES", "UnsafeArchive", "unpack"]

MAX_BYTES = 2 * 2**30  # a class's notebooks with their outputs, with room to spare
MAX_FILES = 10_000
_CHUNK = 2**20


class UnsafeArchive(ValueError):
    """The archive was not unpacked (nothing of it is left behind): the reason is the message."""


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"member {info.filename!r} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"member {info.filename!r} climbs out of the archive (..)")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(f"member {info.filename!r} is a symlink")
    return path


def unpack(archive: Path, dest: Path, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> int:
    """Unpack ``archive`` into ``dest`` (created; must not exist). Returns the number of files.

    Raises ``UnsafeArchive`` (and removes ``dest``) when the archive breaks a rule above, or
    ``zipfile.BadZipFile`` for a damaged one.
    """
    dest = Path(dest)
    dest.mkdir(parents=True)
    try:
        return _unpack(Path(archive), dest, max_bytes, max_files)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _unpack(archive: Path, dest: Path, max_bytes: int, max_files: int) -> int:
    if archive.is_symlink():
        raise UnsafeArchive(f"{archive.name} is a symlink")
    written = files = 0
    with zipfile.ZipFile(archive) as handle:
        members = handle.infolist()
        if len(members) > max_files:
            raise UnsafeArchive(f"{len(members)} members, more than the cap of {max_files}")
        paths = [(info, _member_path(info)) for info in members]  # every member checked before writing
        for info, path in paths:
            target = dest.joinpath(*path.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if any(p.is_symlink() for p in [target.parent, *target.parent.parents] if dest in (p, *p.parents)):
                raise UnsafeArchive(f"member {info.filename!r} would be written through a symlink")
            files += 1
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                raise UnsafeArchive(f"member {info.filename!r} appears twice") from None
            with os.fdopen(fd, "wb") as out, handle.open(info) as source:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise UnsafeArchive(f"more than {max_bytes // 2**20} MiB once unpacked (the cap)")
                    out.write(chunk)
    return files
