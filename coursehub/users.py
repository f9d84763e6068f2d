"""Local system accounts for the hub: created idempotently, never someone else's.

Each account the hub creates carries MARKER in its passwd comment (GECOS) field. An existing
account without it is a real user of the machine: the hub refuses to use, change or delete it.
Passwords are set with ``chpasswd`` (PAM checks them at the hub's login page).
"""

from __future__ import annotations

import grp
import pwd
import subprocess

MARKER = "tl-course hub account"


class ForeignAccountError(RuntimeError):
    pass


def _run(*command: str, stdin: str | None = None) -> None:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} ... failed ({result.returncode}): {result.stderr.strip()}")


def is_hub_account(name: str) -> bool:
    try:
        return MARKER in pwd.getpwnam(name).pw_gecos
    except KeyError:
        return False


def ensure_user(name: str) -> pwd.struct_passwd:
    """The account ``name`` (home in /home/NAME, own group), created if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        _run("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", "--comment", MARKER, name)
        return pwd.getpwnam(name)
    if MARKER not in entry.pw_gecos:
        raise ForeignAccountError(
            f"A user {name!r} already exists and was not created by the course hub (its comment field lacks "
            f"{MARKER!r}): it is left alone. Choose another account prefix (python -m coursehub setup --prefix ...)."
        )
    return entry


def set_password(name: str, password: str) -> None:
    if not is_hub_account(name):
        raise ForeignAccountError(f"refusing to set the password of {name!r}: not a course-hub account")
    _run("chpasswd", stdin=f"{name}:{password}\n")


def remove_user(name: str) -> bool:
    """Delete a hub account and its home; False if there was none. Never touches other accounts."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    if not is_hub_account(name):
        raise ForeignAccountError(f"refusing to delete {name!r}: not a course-hub account")
    _run("userdel", "--remove", name)
    try:  # userdel removes the user's own group only when USERGROUPS_ENAB is set
        grp.getgrnam(name)
        _run("groupdel", name)
    except KeyError:
        pass
    return True
