"""formgrader as a JupyterHub service: the grading account's Jupyter server in the course directory.

nbgrader's demo lets JupyterHub start it (a "managed" service), but JupyterHub waits only about
10 s for a managed service to answer and then exits, and a Jupyter server's first start on a
busy 2-core machine takes longer (measured: >10 s three times in a row at load 12). So the hub
declares it as an external service (its URL and token, see jupyterhub_config.py) and this module
starts it right after the hub, as the grading account, with the environment JupyterHub would
give it, and waits for it as long as needed. Users still reach it only through the hub
(/services/COURSE/, OAuth, the formgrade-COURSE role).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import time
from pathlib import Path

import requests

from .environment import server_environment
from .layout import COURSE_ID, HubLayout

TOKEN_FILE = "formgrader_service_token"


def token(layout: HubLayout) -> str:
    return (layout.hub_dir / TOKEN_FILE).read_text().strip()


def service_environment(layout: HubLayout) -> dict[str, str]:
    account = pwd.getpwnam(layout.grading_account)
    prefix = layout.service_prefix
    access = json.dumps(["access:services", f"access:services!service={COURSE_ID}"])
    return {
        **server_environment(layout, "grading"),
        "HOME": account.pw_dir,
        "USER": account.pw_name,
        "LOGNAME": account.pw_name,
        "SHELL": account.pw_shell,
        "JUPYTERHUB_SERVICE_NAME": COURSE_ID,
        "JUPYTERHUB_API_TOKEN": token(layout),
        "JUPYTERHUB_CLIENT_ID": f"service-{COURSE_ID}",
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{layout.hub_port}/hub/api",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_HOST": "",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{layout.service_port}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
        "JUPYTERHUB_OAUTH_SCOPES": access,
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": access,
        "JUPYTERHUB_USER": account.pw_name,
        "JUPYTERHUB_DEFAULT_URL": "/lab",
    }


def as_account(name: str):
    """preexec_fn: become the account ``name`` (its groups too) before exec."""
    account = pwd.getpwnam(name)

    def demote() -> None:
        os.initgroups(name, account.pw_gid)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return demote


def start(layout: HubLayout, log_path: Path, timeout: float = 300.0) -> subprocess.Popen:
    """Start the service and return once it answers on its loopback port."""
    log = open(log_path, "ab")  # noqa: SIM115 - the service writes to it as long as it runs
    process = subprocess.Popen(
        [str(layout.runtime_venv / "bin" / "jupyterhub-singleuser")],
        cwd=layout.course_dir,  # nbgrader reads the course's nbgrader_config.py from here
        env=service_environment(layout),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=as_account(layout.grading_account),
    )
    url = f"http://127.0.0.1:{layout.service_port}{layout.service_prefix}api"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"formgrader (the {COURSE_ID} service) exited with {process.returncode}: see {log_path}")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return process
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"formgrader did not answer on {url} within {timeout:.0f} s: see {log_path}")
        time.sleep(0.5)
