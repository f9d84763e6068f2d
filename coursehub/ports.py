"""Ports for the users' servers, chosen where no other program's port is chosen for it.

JupyterHub's local spawner takes a free port from the operating system's ephemeral range, closes it, and
the user's server binds it a moment later. Jupyter kernels (five ports each) and every other program that
asks for "any free port" draw from that same range, so one of them can take it in between: the server
then stops with "The port ... is already in use" and the user waits for a server that never comes (seen
once in a test run beside busy kernels). Below the ephemeral range nothing is handed out by chance.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20000  # above the well-known and most registered services' ports
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_start() -> int:
    """Where the operating system's automatically assigned ports begin (Linux's default when unknown)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def server_port(host: str = "127.0.0.1", tries: int = 200) -> int:
    """A port free on ``host``, below the ephemeral range; 0 (let the spawner choose) if none was found."""
    high = ephemeral_start()
    if high <= LOWEST:
        return 0
    for port in random.sample(range(LOWEST, high), min(tries, high - LOWEST)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return 0
