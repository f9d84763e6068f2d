"""The hub's users' servers get ports below the ephemeral range (coursehub/ports.py), where no kernel's
"any free port" can take them between the hub's choice and the server's bind."""

from __future__ import annotations

import socket

from coursehub import ports


def test_a_servers_port_is_free_and_below_the_ephemeral_range():
    for _ in range(20):
        port = ports.server_port()
        assert ports.LOWEST <= port < ports.ephemeral_start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # free: the hub's server can bind it


def test_a_taken_port_is_never_chosen(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        monkeypatch.setattr(ports, "LOWEST", busy)
        monkeypatch.setattr(ports, "ephemeral_start", lambda: busy + 2)
        assert ports.server_port() == busy + 1  # the only other port in the range


def test_no_room_below_the_ephemeral_range_leaves_the_choice_to_the_spawner(monkeypatch):
    monkeypatch.setattr(ports, "ephemeral_start", lambda: ports.LOWEST)
    assert ports.server_port() == 0
