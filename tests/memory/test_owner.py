import os
import subprocess
import sys

from jambox.memory.owner import LIVE_SESSIONS, owner_alive, owner_tag


def test_a_session_from_before_the_last_boot_is_abandoned():
    assert not owner_alive(f"some-other-boot:{os.getppid()}", ("f", 1))
    assert not owner_alive(None, ("f", 1)) and not owner_alive("garbage", ("f", 1))


def test_a_live_process_owns_its_session_and_a_dead_one_does_not():
    boot = owner_tag().rpartition(":")[0]
    assert owner_alive(f"{boot}:{os.getppid()}", ("f", 1))  # the process that started the tests
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not owner_alive(f"{boot}:{int(dead.stdout)}", ("f", 1))


def test_in_this_process_only_a_memory_recording_it_owns_a_session():
    tag = owner_tag()
    assert not owner_alive(tag, ("f", 7))
    LIVE_SESSIONS.add(("f", 7))
    try:
        assert owner_alive(tag, ("f", 7))
    finally:
        LIVE_SESSIONS.discard(("f", 7))
