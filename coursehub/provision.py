"""Set a course hub up on this machine (idempotent): accounts, folders, per-role settings.

What nbgrader's JupyterHub guide asks for, for one class with several graders:

- the exchange, a folder everyone may write to with the sticky bit (mode 1777), so that a student
  can submit but not touch a classmate's submission;
- the course directory (nbgrader's ``CourseDirectory.root``: the course's nbgrader_config.py and
  ``solutions/``; formgrader writes ``lessons/`` and the gradebook there), owned by the grading
  account and closed to everyone else: graders reach it through the formgrader service only;
- nbgrader's extensions per role, through each role's JUPYTER_CONFIG_PATH folder: students get the
  Assignment List (and Validate); instructors and graders the Course List, which links to the
  shared formgrader; the grading account formgrader and Create Assignment.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from pathlib import Path

from . import runtime, users
from .layout import COURSE_ID, HubLayout

# server extensions (jpserver_extensions) and JupyterLab plugins of nbgrader, per role
SERVER_EXTENSIONS = {
    "student": {"assignment_list": True, "validate_assignment": True, "formgrader": False, "course_list": False},
    "instructor": {"assignment_list": True, "validate_assignment": True, "formgrader": False, "course_list": True},
    "grading": {"assignment_list": False, "validate_assignment": True, "formgrader": True, "course_list": False},
}
LAB_PLUGINS_OFF = {
    "student": ["formgrader", "course-list", "create-assignment"],
    "instructor": ["formgrader", "create-assignment"],
    "grading": ["assignment-list", "course-list"],
}


def check_reachable(path: Path, what: str) -> None:
    """Other users (students) must be able to reach ``path``: every folder above it searchable."""
    path = path.resolve()
    for folder in [*reversed(path.parents), path]:
        mode = folder.stat().st_mode
        if folder.is_dir() and not mode & stat.S_IXOTH:
            raise PermissionError(
                f"{what} ({path}) is not reachable by the hub's users: {folder} is not searchable by others "
                f"(mode {stat.filemode(mode)}). Run `chmod o+x {folder}`, or clone the course somewhere "
                f"everyone can read (e.g. /opt or /srv) and run `make hub` there."
            )
    if not os.stat(path).st_mode & (stat.S_IROTH if path.is_file() else stat.S_IROTH | stat.S_IXOTH):
        raise PermissionError(f"{what} ({path}) is not readable by others: run `chmod -R o+rX {path}`")


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def write_role_config(layout: HubLayout, role: str) -> Path:
    folder = layout.config_dir(role)
    extensions = {f"nbgrader.server_extensions.{name}": on for name, on in SERVER_EXTENSIONS[role].items()}
    if role == "grading":  # formgrader's server starts faster without what grading never uses
        extensions.update({"jupyter_lsp": False, "nbgitpuller": False})
    server = {
        "ServerApp": {"jpserver_extensions": extensions},
        # offline: no news feed, no update check, no PyPI search (as `make lab`)
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
            "app_settings_dir": str(folder / "lab-settings"),
        },
        "MappingKernelManager": {"default_kernel_name": "python3"},
    }
    _write(folder / "jupyter_server_config.json", json.dumps(server, indent=1) + "\n")
    disabled = {f"@jupyter/nbgrader:{plugin}": True for plugin in LAB_PLUGINS_OFF[role]}
    _write(folder / "labconfig" / "page_config.json", json.dumps({"disabledExtensions": disabled}, indent=1) + "\n")
    # the course's JupyterLab defaults (jupyter_config/lab-settings), plus: every cell of a notebook in
    # the page (no windowing), so that a long lesson reads and prints as one page
    overrides = json.loads((layout.repo_root / "jupyter_config" / "lab-settings" / "overrides.json").read_text())
    overrides.setdefault("@jupyterlab/notebook-extension:tracker", {})["windowingMode"] = "none"
    _write(folder / "lab-settings" / "overrides.json", json.dumps(overrides, indent=1) + "\n")
    # nbgrader on every server of the hub: one course, one exchange (the demo's global config)
    _write(
        folder / "nbgrader_config.py",
        "# written by coursehub/provision.py\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n",
    )
    for path in [folder, *folder.rglob("*")]:  # servers run as their users: readable by all, writable by root
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def write_gitconfig(layout: HubLayout) -> Path:
    """git refuses a repository another user owns ("dubious ownership"), so nbgitpuller could not
    pull from a local path the hub's admin owns: the users' git configuration names those as safe.
    (GIT_CONFIG_SYSTEM, not git -c: git drops command-line settings for a local transport.)"""
    lines = ["# written by coursehub/provision.py", "[include]", "\tpath = /etc/gitconfig", "[safe]"]
    for source in layout.git_sources:
        path = Path(source)
        lines += [f"\tdirectory = {path}", f"\tdirectory = {path / '.git'}"]
    _write(layout.gitconfig, "\n".join(lines) + "\n")
    return layout.gitconfig


def write_course_dir(layout: HubLayout, lessons: list[str] | None = None) -> Path:
    """The grading account's course directory, from the repo's nbgrader_config.py and solutions/.

    Kept if it exists (it holds the gradebook); `make hub` only adds lessons that are missing.
    """
    account = users.ensure_user(layout.grading_account)
    course = layout.course_dir
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(layout.repo_root / "nbgrader_config.py", course / "nbgrader_config.py")
    source = layout.repo_root / "solutions"
    for lesson in lessons or sorted(p.name for p in source.iterdir() if p.is_dir()):
        if not (course / "solutions" / lesson).exists():
            shutil.copytree(source / lesson, course / "solutions" / lesson, ignore=shutil.ignore_patterns(".*"))
    (course / "nbgrader").mkdir(exist_ok=True)
    for path in [course, *course.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    course.chmod(0o700)
    course.parent.chmod(0o755)
    return course


def ensure_passwords(layout: HubLayout, given: dict[str, str] | None = None) -> dict[str, str]:
    """Each login account's password: given ones, else the ones saved before, else new random ones
    (saved in hub/passwords.json, readable by root only)."""
    path = layout.hub_dir / "passwords.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    passwords = {name: (given or {}).get(name) or saved.get(name) or secrets.token_urlsafe(12) for name in layout.login_users}
    for name, password in passwords.items():
        users.set_password(name, password)
    _write(path, json.dumps(passwords, indent=1) + "\n", mode=0o600)
    return passwords


def provision(layout: HubLayout, passwords: dict[str, str] | None = None, lessons: list[str] | None = None) -> dict[str, str]:
    """Everything the hub needs before `jupyterhub` starts; returns the login passwords."""
    if os.geteuid() != 0:
        raise PermissionError("the course hub creates system users and runs servers as them: run it as root (sudo make hub)")
    if shutil.which("configurable-http-proxy") is None:
        raise FileNotFoundError(
            "configurable-http-proxy is not installed: run `make hub-deps` (Node from apt, the proxy from npm)"
        )
    check_reachable(layout.repo_root / "helpers", "the course's helpers package")
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)
    check_reachable(layout.root, "the hub's folder")
    runtime.build(layout.runtime_venv)
    check_reachable(layout.runtime_venv / "bin" / "jupyterhub-singleuser", "the course environment (.venv)")
    layout.hub_dir.mkdir(exist_ok=True)
    layout.hub_dir.chmod(0o700)
    layout.exchange.mkdir(exist_ok=True)
    layout.exchange.chmod(0o1777)  # nbgrader's documented exchange permissions: everyone writes, sticky
    for name in layout.accounts:
        users.ensure_user(name)
    for role in ("student", "instructor", "grading"):
        write_role_config(layout, role)
    write_course_dir(layout, lessons)
    write_gitconfig(layout)
    token = layout.hub_dir / "formgrader_service_token"  # the service's hub API token (root only)
    if not token.is_file():
        _write(token, secrets.token_hex(32) + "\n", mode=0o600)
    layout.save()
    return ensure_passwords(layout, passwords)
