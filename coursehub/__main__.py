"""``python -m coursehub setup|run|remove`` (what `make hub` runs; docs/instructor_guide.md).

setup   create the accounts, folders and settings (idempotent) and print the logins
run     setup, then JupyterHub in the foreground on 127.0.0.1 (Ctrl+C stops it and every server)
remove  delete the hub's accounts (only those the hub created) and its folder
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from pathlib import Path

from . import users
from .launcher import kill_account_processes, start_hub
from .layout import COURSE_ID, DEFAULT_ROOT, HubLayout
from .provision import provision

COURSE_ENV = ("TL_COURSE_MIRROR", "TL_COURSE_OFFLINE", "TL_COURSE_ALLOW_RANDOM_WEIGHTS", "TL_COURSE_QUICK", "TL_COURSE_MODE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursehub", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["setup", "run", "remove"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"the hub's folder (default {DEFAULT_ROOT})")
    parser.add_argument("--port", type=int, default=8000, help="the port browsers open on 127.0.0.1 (default 8000)")
    parser.add_argument("--prefix", default="tlc-", help="prefix of every account the hub creates (default tlc-)")
    parser.add_argument("--students", type=int, default=3, help="number of student accounts (default 3)")
    parser.add_argument(
        "--git-source",
        action="append",
        default=[],
        type=Path,
        help="a local git repository nbgitpuller links may pull (repeatable)",
    )
    args = parser.parse_args(argv)
    layout = HubLayout(
        root=args.root.resolve(),
        prefix=args.prefix,
        students=tuple(f"student{i}" for i in range(1, args.students + 1)),
        port=args.port,
        course_env={name: os.environ[name] for name in COURSE_ENV if os.environ.get(name)},
        git_sources=tuple(str(p.resolve()) for p in args.git_source),
    )
    try:
        if args.action == "remove":
            pid_file = layout.hub_dir / "jupyterhub.pid"
            if (
                pid_file.is_file()
                and pid_file.read_text().strip().isdigit()
                and Path(f"/proc/{pid_file.read_text().strip()}").exists()
            ):
                print(
                    f"coursehub: the hub in {layout.root} is running: stop it first (Ctrl+C where `make hub` runs)",
                    file=sys.stderr,
                )
                return 2
            kill_account_processes(layout)
            for name in layout.accounts:
                print(f"{name}: {'removed' if users.remove_user(name) else 'not there'}")
            shutil.rmtree(layout.root, ignore_errors=True)
            return 0
        passwords = provision(layout)
    except (PermissionError, FileNotFoundError, users.ForeignAccountError, RuntimeError) as err:
        print(f"coursehub: {err}", file=sys.stderr)
        return 2
    print(f"Course hub in {layout.root}: open {layout.url}/hub/login and log in as")
    for name in layout.login_users:
        role = "instructor" if name == layout.instructor else "grader" if name == layout.grader else "student"
        print(f"  {name:<20} {passwords[name]:<20} ({role})")
    print(f"Formgrader (instructor, grader): {layout.url}{layout.service_prefix}formgrader")
    print(f"Passwords are kept in {layout.hub_dir / 'passwords.json'} (root only). Course id: {COURSE_ID}.")
    if args.action == "run":
        log = layout.hub_dir / "jupyterhub.log"
        # Ctrl+C stops the hub even when `make hub` was started in the background (SIGINT ignored
        # there), and so does a plain `kill` (SIGTERM)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        hub = start_hub(layout, log)
        print(f"The hub is up (log: {log}, formgrader's: {log.with_name('formgrader.log')}). Ctrl+C stops it and every server.")
        try:
            hub.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            hub.stop()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
