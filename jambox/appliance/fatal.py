"""A fatal start-up error shown everywhere someone may look: the journal, ``systemctl status``, and the box.

A jam box has no screen. When ``jambox run`` cannot start (no sound card, a corrupt model, a config
error) the player sees only that nothing plays, so the error LED blinks the error's exit code
(:func:`jambox.controls.leds.error_code`: 2 config, 4 model or soundfont, 5 audio/MIDI/GPIO device,
6 state file) for a few seconds before the process exits and systemd's back-off restarts it. The same
number is the exit status and is in the log line, so "four blinks" can be looked up.

Showing the error must never hide it: every failure while showing it (no GPIO, LEDs busy) is logged
and swallowed, and the original error is re-raised by :func:`fatal_errors_shown`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

from jambox.appliance.notify import Notifier

log = logging.getLogger(__name__)

HOLD_CYCLES = 2  # repeats of the blink code before exiting (about 5 s for a code of 4)


def error_code(error: BaseException) -> int:
    """The exit status (and number of blinks) for ``error``: a JamboxError's exit_code, else 1."""
    try:
        from jambox.controls.leds import error_code as leds_error_code

        return leds_error_code(error)
    except ImportError:  # the LED module is optional for this function's purpose
        from jambox.errors import JamboxError

        return int(error.exit_code) if isinstance(error, JamboxError) else 1


def show_fatal(error: BaseException, *, notifier: Notifier | None = None, leds=None,
               cycles: int = HOLD_CYCLES) -> int:
    """Report ``error`` in the log, to systemd, and on the error LED; return the exit status to use.

    ``leds`` is a :class:`jambox.controls.leds.StatusLeds` (or anything with ``show_error(code, cycles=)``),
    or None on a box without LEDs. With LEDs, this returns after ``cycles`` repeats of the code.
    """
    code = error_code(error)
    message = str(error) or type(error).__name__
    log.error("cannot start (exit status %d): %s", code, message)
    if notifier is not None:
        try:
            notifier.failed(f"cannot start: {message}", errno=getattr(error, "errno", None) or None)
        except Exception:  # noqa: BLE001 - reporting must not replace the error being reported
            log.exception("could not tell systemd about the start-up error")
    if leds is not None:
        try:
            leds.show_error(max(1, min(code, 9)), cycles=cycles)
        except Exception:  # noqa: BLE001 - the same: a broken LED must not hide the real error
            log.exception("could not show the start-up error on the error LED")
    return code


@contextmanager
def fatal_errors_shown(*, notifier: Notifier | None = None, leds: Callable[[], object] | object | None = None,
                       cycles: int = HOLD_CYCLES) -> Iterator[None]:
    """Around start-up: any exception is shown (log, systemd, LED) and then re-raised unchanged.

    ``leds`` may be a factory (called only when an error happens, so a box whose GPIO is the problem
    is not asked to open it twice) or the LED object itself.

    >>> with fatal_errors_shown(notifier=notifier, leds=lambda: status_leds):
    ...     model = load_model(cfg.generator.model, cfg.generator.backend)
    ...     stream.open()
    """
    try:
        yield
    except Exception as error:  # not KeyboardInterrupt/SystemExit: those are not start-up failures
        shown = leds
        if callable(leds) and not hasattr(leds, "show_error"):
            try:
                shown = leds()
            except Exception:  # noqa: BLE001
                log.exception("could not open the LEDs to show the start-up error")
                shown = None
        show_fatal(error, notifier=notifier, leds=shown, cycles=cycles)
        raise
