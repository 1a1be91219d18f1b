"""The private JACK server: realtime where the machine allows SCHED_FIFO, and what it really got."""

import os

from jambox.audio.jackd import JackServer, realtime_allowed, realtime_threads


def test_a_server_asked_not_to_be_realtime_has_no_realtime_thread(tmp_path):
    with JackServer(48000, 128, realtime=False, log_path=tmp_path / "jackd.log") as server:
        assert server.realtime is False
        assert realtime_threads(server.proc.pid) == 0
        assert "non-realtime" in (tmp_path / "jackd.log").read_text()


def test_by_default_the_server_is_realtime_exactly_where_the_machine_allows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("JAMBOX_JACK_RT", raising=False)
    allowed = realtime_allowed()
    with JackServer(48000, 128, log_path=tmp_path / "jackd.log") as server:
        # which case ran is in the assertion: on a machine without SCHED_FIFO the server is not realtime
        assert server.realtime is allowed, (allowed, (tmp_path / "jackd.log").read_text())
        assert (realtime_threads(server.proc.pid) > 0) is allowed


def test_the_environment_forces_the_choice(monkeypatch):
    monkeypatch.setenv("JAMBOX_JACK_RT", "0")
    assert JackServer().realtime is False
    monkeypatch.setenv("JAMBOX_JACK_RT", "1")
    assert JackServer().realtime is True


def test_the_realtime_probe_changes_nothing_in_this_process():
    before = os.sched_getscheduler(0)
    realtime_allowed()
    assert os.sched_getscheduler(0) == before


def test_threads_of_a_process_that_is_gone_count_as_none():
    assert realtime_threads(2**22 + 12345) == 0


def test_the_registry_offers_the_names_of_killed_jambox_servers_only(tmp_path):
    import struct

    from jambox.audio.jackd import dead_registered_names

    dead_pid = 2**22 + 4321  # above Linux's default pid_max: no such process
    entries = [(dead_pid, "jack-0:jambox-1-dead:"), (os.getpid(), "jack-0:jambox-2-alive:"),
               (dead_pid, "jack-0:default:"), (0, "")]
    stride = 264
    data = bytearray(struct.pack("<6I", 0x4A41434B, 0, 1, 0, 24 + 8 * stride, 268) + bytes(8 * stride))
    for i, (pid, prefix) in enumerate(entries):
        struct.pack_into("<i", data, 24 + i * stride, pid)
        data[28 + i * stride:28 + i * stride + len(prefix)] = prefix.encode()
    registry = tmp_path / "jack-shm-registry"
    registry.write_bytes(bytes(data))
    assert dead_registered_names(registry) == ["jambox-1-dead"]
    assert dead_registered_names(tmp_path / "missing") == []
