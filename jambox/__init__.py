"""jambox: a jam box that listens to a bass player, joins in, and remembers what the player liked."""

__version__ = "0.1.0"
