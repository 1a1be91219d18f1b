"""Training tests read the real data at ../shared/data beside the repo (or $JAMBOX_DATA)."""

import os
from pathlib import Path

DATA = Path(os.environ.get("JAMBOX_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
