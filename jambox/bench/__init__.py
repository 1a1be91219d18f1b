"""``jambox bench``: each area measures itself in ``jambox.bench.<area>.run(quick) -> dict``."""

AREAS = ("listener", "model", "generator", "engine", "controls", "midi", "memory", "appliance")
