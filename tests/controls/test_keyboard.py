import os
import queue
import termios
import threading

import pytest

from jambox.controls.actions import Action, ActionKind
from jambox.controls.keyboard import KEY_HELP, KEYS, KeyboardControls, KeyMap, split_keys
from jambox.controls.state import ControlState

K = ActionKind


def test_every_documented_key_is_in_the_help():
    for key, k in KEYS.items():
        shown = "space" if key == " " else "1..9" if key.isdigit() else key
        assert shown in KEY_HELP, f"key {key!r} is not in KEY_HELP"
    for word in ("keep", "softer", "more dissonance", "resolve", "let go", "start/stop", "join now", "tap",
                 "energy", "tension", "surprise", "level", "quit"):
        assert word in KEY_HELP


def test_split_keys_keeps_escape_sequences_whole():
    assert split_keys("k\x1b[Ad") == (["k", "\x1b[A", "d"], "")
    assert split_keys("\x1b[1;5C[") == (["\x1b[1;5C", "["], "")
    assert split_keys("\x1bOPs") == (["\x1bOP", "s"], "")
    assert split_keys("k\x1b[") == (["k"], "\x1b[")  # continued by the next read
    assert split_keys("\x1bk") == (["\x1b", "k"], "")  # Esc, then k


def test_keymap_actions():
    m = KeyMap(ControlState(dissonance=0.2, surprise=0.3, level=0.8))
    assert m.action("k") == Action(K.KEEP, "keyboard")
    assert m.action("S") == Action(K.SOFTER_ALL, "keyboard")
    assert m.action(" ") == Action(K.START_STOP, "keyboard")
    assert m.action("1") == Action(K.SET, "keyboard", "energy", 0.0)
    assert m.action("5") == Action(K.SET, "keyboard", "energy", 0.5)
    assert m.action("9") == Action(K.SET, "keyboard", "energy", 1.0)
    assert m.action("]") == Action(K.SET, "keyboard", "dissonance", 0.3)
    assert m.action("=") == Action(K.SET, "keyboard", "level", 0.9)
    assert m.action("+") == Action(K.SET, "keyboard", "level", 1.0)
    assert m.action("+") is None  # already at the top
    assert m.action("x") is None and m.action("q") is None and m.action("\x1b[A") is None
    m.sync(ControlState(surprise=0.0))
    assert m.action(",") is None and m.action(".") == Action(K.SET, "keyboard", "surprise", 0.1)


def test_keys_through_a_pipe():
    r, w = os.pipe()
    got: queue.SimpleQueue = queue.SimpleQueue()
    quit_ = threading.Event()
    helped = []
    with KeyboardControls(got.put, fd=r, on_quit=quit_.set, on_help=lambda: helped.append(1)):
        os.write(w, b"ks?\x1b[Ad")
        kinds = [got.get(timeout=3).kind for _ in range(3)]
        assert kinds == [K.KEEP, K.SOFTER, K.MORE_DISSONANCE]  # the arrow key's bytes did nothing
        assert helped == [1]
        os.write(w, b"q")
        assert quit_.wait(3)
    os.close(w)
    os.close(r)


def test_end_of_input_counts_as_quit():
    r, w = os.pipe()
    quit_ = threading.Event()
    kb = KeyboardControls(lambda a: None, fd=r, on_quit=quit_.set)
    try:
        os.close(w)
        assert quit_.wait(3)
    finally:
        kb.close()
        os.close(r)


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def test_a_terminal_goes_to_cbreak_and_is_restored(pty_pair):
    master, slave = pty_pair
    before = termios.tcgetattr(slave)
    assert before[3] & termios.ICANON and before[3] & termios.ECHO
    got: queue.SimpleQueue = queue.SimpleQueue()
    with KeyboardControls(got.put, fd=slave):
        during = termios.tcgetattr(slave)
        assert not during[3] & termios.ICANON and not during[3] & termios.ECHO
        assert during[3] & termios.ISIG  # Ctrl-C still interrupts
        os.write(master, b"j t")  # no Enter needed in cbreak mode
        assert [got.get(timeout=3).kind for _ in range(3)] == [K.JOIN_NOW, K.START_STOP, K.TAP]
    assert termios.tcgetattr(slave) == before


def test_the_terminal_is_restored_after_an_exception(pty_pair):
    master, slave = pty_pair
    before = termios.tcgetattr(slave)
    with pytest.raises(RuntimeError, match="boom"):
        with KeyboardControls(lambda a: None, fd=slave):
            assert termios.tcgetattr(slave) != before
            raise RuntimeError("boom")
    assert termios.tcgetattr(slave) == before


def test_close_is_prompt_and_idempotent(pty_pair):
    _, slave = pty_pair
    kb = KeyboardControls(lambda a: None, fd=slave)
    kb.close()
    kb.close()
    assert not kb._thread.is_alive()


def test_a_failing_submit_does_not_kill_the_reader():
    r, w = os.pipe()
    got: queue.SimpleQueue = queue.SimpleQueue()

    def submit(action):
        if action.kind is K.KEEP:
            raise RuntimeError("queue full")
        got.put(action)

    with KeyboardControls(submit, fd=r):
        os.write(w, b"k")
        os.write(w, b"s")
        assert got.get(timeout=3).kind is K.SOFTER
    os.close(w)
    os.close(r)


def test_a_process_that_dies_of_an_exception_gives_the_terminal_back(pty_pair):
    """No close(), no with: the interpreter's exit restores the terminal (atexit)."""
    import subprocess
    import sys

    master, slave = pty_pair
    before = termios.tcgetattr(slave)
    code = ("from jambox.controls.keyboard import KeyboardControls\n"
            "import termios, sys\n"
            "kb = KeyboardControls(print)\n"
            "assert not termios.tcgetattr(0)[3] & termios.ICANON\n"
            "raise RuntimeError('crash')\n")
    proc = subprocess.run([sys.executable, "-c", code], stdin=slave, capture_output=True, timeout=30,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 1
    assert b"RuntimeError: crash" in proc.stderr and b"AssertionError" not in proc.stderr
    assert termios.tcgetattr(slave) == before
