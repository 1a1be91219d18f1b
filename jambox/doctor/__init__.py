"""``jambox doctor``: small checks, each saying in plain words what is wrong and how to fix it.

Every check is a function of a :class:`Context` (the configuration and the filesystem root it looks
at) returning one :class:`Check`: OK, PROBLEM (with a fix) or SKIP (does not apply here, e.g. the HAT
checks on a laptop). Checks read; they never change anything on the box (the state file is opened
read-only, the GPIO pins are claimed and released at once). ``Context.root`` lets the tests, and an
admin looking at a mounted SD card, point the checks at another ``/proc``, ``/boot`` and ``/dev``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

OK, PROBLEM, SKIP = "ok", "problem", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK | PROBLEM | SKIP
    message: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status != PROBLEM

    def line(self) -> str:
        label = {OK: "OK", PROBLEM: "PROBLEM", SKIP: "SKIP"}[self.status]
        text = f"{label:8s} {self.name}: {self.message}"
        if self.fix:
            text += ("" if text.endswith((".", "!", "?")) else ".") + f" Fix: {self.fix}"
        return text

    def as_dict(self) -> dict:
        return asdict(self)


def ok(name: str, message: str) -> Check:
    return Check(name, OK, message)


def problem(name: str, message: str, fix: str) -> Check:
    return Check(name, PROBLEM, message, fix)


def skip(name: str, message: str) -> Check:
    return Check(name, SKIP, message)


@dataclass
class Context:
    """What the checks look at. ``config`` is None when the configuration itself failed to load."""

    config: object | None
    config_error: str | None = None
    config_sources: list[str] = field(default_factory=list)
    root: Path = Path("/")
    state_file: str | None = None  # --state, over memory.state_file

    def path(self, absolute: str) -> Path:
        """``absolute`` (e.g. "/proc/asound/cards") under :attr:`root`."""
        return self.root / absolute.lstrip("/")

    def is_raspberry_pi(self) -> bool:
        try:
            model = self.path("/proc/device-tree/model").read_bytes().decode("ascii", "replace")
        except OSError:
            return False
        return "raspberry pi" in model.lower()


def checks() -> dict:
    """The checks in the order they run: name -> function(Context) -> Check."""
    from jambox.doctor import audio, files, gpio, hat, midi, service

    return {
        "config": files.check_config,
        "audio": audio.check_audio,
        "hat": hat.check_hat,
        "mixer": hat.check_mixer,
        "pins": hat.check_pins,
        "model": files.check_model,
        "soundfont": files.check_soundfont,
        "gpio": gpio.check_gpio,
        "spi": gpio.check_spi,
        "midi": midi.check_midi,
        "state": files.check_state,
        "service": service.check_service,
    }


def run_checks(ctx: Context, only: list[str] | None = None) -> list[Check]:
    """Run the checks (all, or those named in ``only``); a check that crashes is itself a PROBLEM."""
    results = []
    for name, fn in checks().items():
        if only and name not in only:
            continue
        if ctx.config is None and name != "config":
            results.append(skip(name, "needs a valid configuration (see the config check)"))
            continue
        try:
            results.append(fn(ctx))
        except Exception as e:  # noqa: BLE001 - the doctor must report, not crash
            results.append(problem(name, f"the check itself failed: {type(e).__name__}: {e}",
                                   "report this as a bug, with the output of jambox -vv doctor"))
    return results
