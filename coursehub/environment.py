"""The environment of the hub's Jupyter servers (users' servers and the formgrader service)."""

from __future__ import annotations

import os

from . import runtime
from .layout import HubLayout


def server_environment(layout: HubLayout, role: str) -> dict[str, str]:
    """The course's .venv first on PATH (through coursehub/runtime.py's interpreter), the role's settings."""
    return {
        "PATH": os.pathsep.join([str(layout.runtime_venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        # the course's packages (helpers; autograder and coursetools for the grading account)
        "PYTHONPATH": str(layout.repo_root),
        "JUPYTER_CONFIG_PATH": str(layout.config_dir(role)),
        "JUPYTER_PATH": runtime.jupyter_path(layout.runtime_venv),  # the python3 kernel, run by that interpreter
        "JUPYTER_PREFER_ENV_PATH": "1",  # the course's nbgrader extensions win over any in ~/.local
        "GIT_CONFIG_SYSTEM": str(layout.gitconfig),  # nbgitpuller may pull the local sources named there
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **layout.course_env,
    }
