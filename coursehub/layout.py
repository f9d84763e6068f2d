"""Where a course hub keeps its state, which ports it uses, and who its users are.

Everything a hub needs lives under one folder (``/srv/tl-course-hub`` for `make hub`, a temporary
folder for the test), described by ``hub.json`` there so that ``coursehub/jupyterhub_config.py``
(run by the ``jupyterhub`` process) reads the same layout that :mod:`coursehub.provision` wrote.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coursetools.paths import REPO_ROOT

# The nbgrader course id (nbgrader_config.py): also the name of the formgrader service and of the
# hub groups nbgrader looks for (formgrade-COURSE for graders, nbgrader-COURSE for students).
COURSE_ID = "transfer-learning-cv"
VENV_BIN = Path(sys.executable).parent
DEFAULT_ROOT = Path("/srv/tl-course-hub")
LAYOUT_FILE = "hub.json"
ROLES = ("student", "instructor", "grading")


@dataclass(frozen=True)
class HubLayout:
    root: Path
    prefix: str = "tlc-"  # every account the hub creates starts with it (never a real user's name)
    students: tuple[str, ...] = ("student1", "student2", "student3")
    port: int = 8000  # the proxy: the only address a browser opens
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 9999  # formgrader, run as the grading account
    venv_bin: Path = VENV_BIN
    repo_root: Path = REPO_ROOT
    # TL_COURSE_* settings passed to every server and kernel (mirror, offline, quick mode)
    course_env: dict[str, str] = field(default_factory=dict)
    # local git repositories nbgitpuller may pull from (owned by root: git trusts them only when told)
    git_sources: tuple[str, ...] = ()

    # --- accounts -------------------------------------------------------------------------
    @property
    def instructor(self) -> str:
        return f"{self.prefix}instructor"

    @property
    def grader(self) -> str:
        """The second grader."""
        return f"{self.prefix}grader2"

    @property
    def grading_account(self) -> str:
        """Runs formgrader and owns the course directory and gradebook (nbgrader's grader-COURSE)."""
        return f"{self.prefix}course"

    @property
    def staff(self) -> list[str]:
        return [self.instructor, self.grader]

    @property
    def student_users(self) -> list[str]:
        return [f"{self.prefix}{name}" for name in self.students]

    @property
    def login_users(self) -> list[str]:
        return [*self.staff, *self.student_users]

    @property
    def accounts(self) -> list[str]:
        return [*self.login_users, self.grading_account]

    # --- folders --------------------------------------------------------------------------
    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def course_dir(self) -> Path:
        return self.root / "course" / COURSE_ID

    @property
    def runtime_venv(self) -> Path:
        """What the users' servers run (coursehub/runtime.py): the course's packages, a Python they may run."""
        return self.root / "venv"

    @property
    def hub_dir(self) -> Path:
        """JupyterHub's database, cookie secret, pid files and the passwords: root only."""
        return self.root / "hub"

    def config_dir(self, role: str) -> Path:
        """The JUPYTER_CONFIG_PATH of a role's servers: extensions on/off, nbgrader's exchange."""
        assert role in ROLES, role
        return self.root / "jupyter" / role

    @property
    def gitconfig(self) -> Path:
        """The users' system git configuration (GIT_CONFIG_SYSTEM): /etc/gitconfig plus git_sources."""
        return self.root / "gitconfig"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_prefix(self) -> str:
        return f"/services/{COURSE_ID}/"

    # --- persistence ----------------------------------------------------------------------
    def save(self) -> Path:
        data = asdict(self)
        data.update(root=str(self.root), venv_bin=str(self.venv_bin), repo_root=str(self.repo_root))
        data["students"], data["git_sources"] = list(self.students), list(self.git_sources)
        path = self.root / LAYOUT_FILE
        path.write_text(json.dumps(data, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, root: Path) -> HubLayout:
        path = Path(root) / LAYOUT_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: set the hub up first (make hub, or python -m coursehub setup)")
        data = json.loads(path.read_text())
        data.update(
            root=Path(data["root"]),
            venv_bin=Path(data["venv_bin"]),
            repo_root=Path(data["repo_root"]),
            students=tuple(data["students"]),
            git_sources=tuple(data.get("git_sources", ())),
        )
        return cls(**data)
