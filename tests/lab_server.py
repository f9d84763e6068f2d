"""A real JupyterLab server for the tests, started the way `make lab` starts it.

Same command (`.venv/bin/jupyter lab` from the repo root), same course settings
(``JUPYTER_CONFIG_PATH=jupyter_config``, the repo's ``nbgrader_config.py`` in the server's working
directory). Test-only differences: loopback, a random free port and token, no browser, and fresh
runtime/config/data/settings/workspace folders so a developer's ~/.jupyter neither leaks in
nor gets written to. The server runs in its own process group; `stop()` ends it and every process it
started (kernels run in their own sessions) by process id, and checks that none is left.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from coursetools.paths import REPO_ROOT

VENV_BIN = Path(sys.executable).parent
COURSE_JUPYTER_CONFIG = REPO_ROOT / "jupyter_config"


def free_port() -> int:
    """A port nobody listens on right now (the server gets port_retries=0, so a race fails loudly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process, before exec: Linux sends it SIGTERM when the test process dies,
    however it dies (SIGKILL, a crashed xdist worker), and jupyter_server then shuts its kernels
    down. The server runs in its own session, so nothing else would end it."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LabServer:
    process: subprocess.Popen
    port: int
    token: str
    workdir: Path
    log_path: Path
    start_seconds: float = 0.0
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def get_json(self, path: str, **params):
        response = self.request("GET", path, params=params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self, grace: float = 15.0) -> None:
        """End the server and everything it started, by process id; fail if anything survives."""
        if self._stopped:
            return
        self._stopped = True
        try:
            server = psutil.Process(self.process.pid)
            family = [server, *server.children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        # SIGTERM first: jupyter_server then shuts its kernels down cleanly.
        with _ignore_missing():
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with _ignore_missing():
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Kernels live in their own sessions, outside the server's group: end any survivor by pid.
        _, alive = psutil.wait_procs(family, timeout=5)
        for process in alive:
            with _ignore_missing():
                process.kill()
        _, alive = psutil.wait_procs(alive, timeout=5)
        leftovers = [p.pid for p in alive if _is_running(p)]
        assert self.process.poll() is not None, f"JupyterLab server {self.process.pid} is still running"
        assert not _group_exists(self.process.pid), f"process group {self.process.pid} still has members"
        assert not leftovers, f"processes started by the server are still running: {leftovers}"


def _ignore_missing():
    return contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess)


def _is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lab_environment(workdir: Path) -> dict[str, str]:
    """The test server's environment: the course's settings plus fresh per-run folders.

    nbgrader's assignment list needs an exchange; a learner's laptop has none
    (/srv/nbgrader/exchange), so the test gives it a temporary one through an
    ``nbgrader_config.py`` in the fresh user config folder. The repo's ``nbgrader_config.py``
    (read from the working directory) still has the last word on everything it sets.
    """
    config_dir = workdir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    exchange = workdir / "exchange"
    exchange.mkdir(exist_ok=True)
    (config_dir / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    # No autosave: the test opens committed lessons, and a save (JupyterLab rewrites kernel
    # metadata on open) would change them. Learners keep the default.
    docmanager = workdir / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True, exist_ok=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    env = dict(os.environ)
    env.update(
        PATH=str(VENV_BIN) + os.pathsep + env.get("PATH", ""),
        JUPYTER_CONFIG_PATH=str(COURSE_JUPYTER_CONFIG),
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        JUPYTER_DATA_DIR=str(workdir / "data"),  # the notebook-signing key goes here, not to ~
        JUPYTERLAB_SETTINGS_DIR=str(workdir / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
        JUPYTER_PREFER_ENV_PATH="1",
    )
    return env


def start_lab_server(workdir: Path, timeout: float = 120.0) -> LabServer:
    """Start `jupyter lab` as `make lab` does, on loopback; return once its API answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(24)
    log_path = workdir / "jupyterlab.log"
    command = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        # Safety nets should the test process die without its finalizer (see _die_with_parent):
        # idle kernels are culled, and a server with no kernels and no activity stops itself.
        "--ServerApp.shutdown_no_activity_timeout=600",
        "--MappingKernelManager.cull_idle_timeout=300",
        "--MappingKernelManager.cull_interval=60",
    ]
    if os.geteuid() == 0:  # CI containers run as root; jupyter refuses that unless told
        command.append("--allow-root")
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=lab_environment(workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = LabServer(process, port, token, workdir, log_path)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if server.request("GET", "/api/status").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
    except BaseException:
        server.stop()
        raise
    server.start_seconds = time.perf_counter() - started
    return server


@dataclass
class CellResult:
    status: str
    stdout: str
    errors: list[str]


class KernelConnection:
    """The kernel's websocket channel, spoken as JupyterLab speaks it (Jupyter message protocol 5)."""

    def __init__(self, server: LabServer, kernel_id: str, session_id: str):
        import websocket  # websocket-client

        self.session_id = session_id
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={session_id}",
            header=[f"Authorization: token {server.token}"],
            timeout=30,
        )

    def close(self) -> None:
        self.socket.close()

    def execute(self, code: str, timeout: float = 300.0) -> CellResult:
        msg_id = uuid.uuid4().hex
        self.socket.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": "test",
                        "session": self.session_id,
                        "version": "5.3",
                        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        stdout, errors, status, idle = [], [], None, False
        deadline = time.monotonic() + timeout
        while status is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply within {timeout:.0f} s to:\n{code[:300]}")
            self.socket.settimeout(left)  # a long silent cell (heavy imports) is not an error
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content["name"] == "stdout":
                stdout.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                stdout.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return CellResult(status, "".join(stdout), errors)
