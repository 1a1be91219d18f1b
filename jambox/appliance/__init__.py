"""Running jambox as an appliance: systemd's notify protocol and watchdog, stop signals, fatal errors shown on the box.

``jambox run`` uses these so that systemd knows when the box is really ready (model loaded, audio open),
restarts it when the engine hangs (the watchdog is fed by the logic thread), stops it cleanly on SIGTERM,
and so that a box without a screen shows a fatal start-up error on its LEDs, not only in the journal.
"""

from jambox.appliance.fatal import fatal_errors_shown, show_fatal
from jambox.appliance.notify import Notifier, under_systemd, watchdog_interval
from jambox.appliance.signals import StopSignals

__all__ = ["Notifier", "StopSignals", "fatal_errors_shown", "show_fatal", "under_systemd", "watchdog_interval"]
