"""The sd_notify side, against a real unix datagram socket standing in for systemd."""

from __future__ import annotations

import socket

import pytest

from jambox.appliance.notify import Notifier, under_systemd, watchdog_interval


@pytest.fixture
def systemd_socket(tmp_path, monkeypatch):
    """A datagram socket where systemd's would be, with NOTIFY_SOCKET pointing at it."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def received(sock) -> list[str]:
    out = []
    sock.settimeout(0.2)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except (socket.timeout, BlockingIOError):
        return out


def test_ready_sends_ready_and_status_once(systemd_socket):
    n = Notifier()
    assert n.enabled
    n.status("loading the model")
    n.ready("listening on hw:0")
    n.ready()  # a second call does not send READY again
    msgs = received(systemd_socket)
    assert msgs == ["STATUS=loading the model", "READY=1\nSTATUS=listening on hw:0"]
    assert n.is_ready and n.sent == 2


def test_status_is_kept_on_one_line(systemd_socket):
    n = Notifier()
    n.status("device lost:\nhw:1 went away")
    assert received(systemd_socket) == ["STATUS=device lost: hw:1 went away"]


def test_stopping_and_failed(systemd_socket):
    n = Notifier()
    n.stopping("stopping on SIGTERM")
    n.failed("no audio device", errno=19)
    n.extend_timeout(30)
    assert received(systemd_socket) == ["STOPPING=1\nSTATUS=stopping on SIGTERM",
                                        "STATUS=no audio device\nERRNO=19", "EXTEND_TIMEOUT_USEC=30000000"]


def test_a_failure_stays_the_status_through_the_shutdown(systemd_socket):
    n = Notifier()
    n.failed("cannot start: no audio device")
    n.stopping("stopped")
    assert received(systemd_socket) == ["STATUS=cannot start: no audio device", "STOPPING=1"]
    assert n.last_status == "cannot start: no audio device"


def test_watchdog_is_fed_every_half_interval(systemd_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")  # 4 s
    now = [100.0]
    n = Notifier(clock=lambda: now[0])
    assert n.watchdog_s == 4.0
    fed = []
    for step in range(50):  # every 0.1 s for 5 s of clock
        fed.append(n.watchdog())
        now[0] += 0.1
    assert sum(fed) == 3  # at 0 s, 2 s and 4 s
    assert received(systemd_socket) == ["WATCHDOG=1"] * 3


def test_watchdog_is_a_no_op_without_watchdog_usec(systemd_socket):
    n = Notifier()
    assert n.watchdog_s is None
    assert n.watchdog() is False
    assert received(systemd_socket) == []


def test_without_notify_socket_everything_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    n = Notifier()
    assert not n.enabled
    n.ready("x"), n.status("y"), n.stopping()
    assert n.watchdog() is False and n.sent == 0 and n.is_ready


def test_an_unreachable_socket_is_reported_and_disabled(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens.sock"))
    n = Notifier()
    assert not n.enabled
    assert "cannot reach systemd's notify socket" in caplog.text
    n.ready()  # and nothing raises


def test_abstract_socket_names_work(monkeypatch):
    name = f"jambox-test-{id(monkeypatch)}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        Notifier().ready()
        assert received(sock) == ["READY=1"]
    finally:
        sock.close()


def test_a_full_socket_never_blocks_the_sender(systemd_socket):
    """systemd not reading (stuck, or gone): sends fail fast and are counted, the logic thread keeps going."""
    n = Notifier()
    for _ in range(5000):
        n.status("x" * 1000)
    assert n.send_errors > 0
    assert n.sent + n.send_errors == 5000


@pytest.mark.parametrize("env,expected", [
    ({}, None),
    ({"WATCHDOG_USEC": "10000000"}, 10.0),
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "4242"}, 2.0),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # systemd meant another process
])
def test_watchdog_interval(env, expected):
    assert watchdog_interval(env, pid=4242) == expected


def test_under_systemd():
    assert under_systemd({"INVOCATION_ID": "abc"})
    assert under_systemd({"NOTIFY_SOCKET": "/run/systemd/notify"})
    assert not under_systemd({})
