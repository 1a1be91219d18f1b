"""The running box: the chain of stages on one clock, driven offline from files or live from a sound card."""
