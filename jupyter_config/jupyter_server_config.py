"""JupyterLab settings of the course, shared by `make lab` and the tests (tests/lab_server.py).

Found through ``JUPYTER_CONFIG_PATH=<repo>/jupyter_config``, which both set. The server must run
from the repo root: nbgrader's formgrader and assignment list read ``nbgrader_config.py`` from
the server's working directory.
"""

import os

c = get_config()  # noqa: F821 - provided by Jupyter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)

# The repo is the server's root (nbgrader needs the course root inside it); learners land on lessons/.
c.ServerApp.root_dir = REPO_ROOT
c.LabApp.default_url = "/lab/tree/lessons"  # `jupyter lab` uses LabApp's, not ServerApp's

# The lessons name the kernel `python3`; `make setup` installs that kernelspec into .venv
# (pointing at .venv's Python), and JUPYTER_PREFER_ENV_PATH=1 (set by `make lab`) makes it win
# over a `python3` in the user's ~/.local/share/jupyter. JupyterLab then starts it unasked.
c.MappingKernelManager.default_kernel_name = "python3"

# Offline by default: no news feed, no update check, no PyPI search in the extension manager.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
# overrides.json: the same choices for the browser side (news/update prompts), kernel auto-start.
c.LabApp.app_settings_dir = os.path.join(HERE, "lab-settings")
