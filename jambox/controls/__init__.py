"""Every kind of control input (GPIO, keyboard, MIDI, an events file) becomes an Action on one queue."""
