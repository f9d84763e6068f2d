"""Start and stop the hub process (`make hub` in the foreground, the test in the background)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from . import formgrader_service
from .layout import HubLayout

CONFIG_FILE = Path(__file__).with_name("jupyterhub_config.py")


def hub_command(layout: HubLayout) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update(
        TL_COURSE_HUB_ROOT=str(layout.root),
        PYTHONPATH=str(layout.repo_root),
        PATH=os.pathsep.join([str(layout.venv_bin), env.get("PATH", "/usr/bin:/bin")]),
    )
    return [str(layout.venv_bin / "jupyterhub"), "-f", str(CONFIG_FILE)], env


@dataclass
class HubProcess:
    layout: HubLayout
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self, grace: float = 30.0) -> list[int]:
        """SIGTERM (the hub stops every server it started), then end by pid whatever the hub's users
        still run; returns the pids that had to be killed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        stop_orphaned_proxy(self.layout)
        return kill_account_processes(self.layout)


def stop_orphaned_proxy(layout: HubLayout) -> None:
    """A hub that dies leaves its proxy running (JupyterHub removes proxy.pid when it stops it)."""
    pid_file = layout.hub_dir / "proxy.pid"
    try:
        process = psutil.Process(int(pid_file.read_text().strip()))
        if "configurable-http-proxy" in " ".join(process.cmdline()):
            process.terminate()
            process.wait(timeout=10)
    except (FileNotFoundError, ValueError, psutil.Error):
        pass
    pid_file.unlink(missing_ok=True)


def kill_account_processes(layout: HubLayout) -> list[int]:
    """End the processes of the hub's own accounts (servers, kernels), by pid."""
    import pwd

    uids = set()
    for name in layout.accounts:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(name).pw_uid)
    survivors = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]
    for process in survivors:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(survivors, timeout=10)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=5)
    return [p.pid for p in survivors]


def start_hub(layout: HubLayout, log_path: Path, timeout: float = 180.0) -> HubProcess:
    """Start `jupyterhub` in its own process group, then formgrader (coursehub/formgrader_service.py);
    return once both answer."""
    command, env = hub_command(layout)
    log = open(log_path, "ab")  # noqa: SIM115 - the hub writes to it as long as it runs
    process = subprocess.Popen(
        command,
        cwd=layout.hub_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    hub = HubProcess(layout, process, log_path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                stop_orphaned_proxy(layout)
                raise RuntimeError(f"jupyterhub exited with {process.returncode}:\n{hub.log_tail()}")
            try:
                if requests.get(f"{layout.url}/hub/api/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the hub did not answer on {layout.url} within {timeout:.0f} s:\n{hub.log_tail()}")
            time.sleep(0.5)
        formgrader_service.start(layout, log_path.with_name("formgrader.log"))
    except BaseException:
        hub.stop()
        raise
    return hub
