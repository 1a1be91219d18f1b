"""Turning planned notes into sound: FluidSynth for audio, python-rtmidi for MIDI out, mido for files."""
