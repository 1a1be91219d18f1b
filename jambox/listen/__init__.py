"""The listener: hears a bass player the way a musician does (notes, beat, meter, key, loop, feel)."""

from jambox.listen.listener import Listener

__all__ = ["Listener"]
