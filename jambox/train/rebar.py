"""Odd meters from real 4/4 material, by re-barring (never invented patterns).

Each target bar starts on a real downbeat of the source and is cut or extended from there:

- 3/4 = a 4/4 bar less its last beat (12 steps);
- 5/4 = a 4/4 bar plus the first beat of the next bar (20 steps);
- 7/8 = a 4/4 bar less its last eighth (14 steps), grouped 2+2+3 eighths;
- 7/4 = a 4/4 bar plus the first three beats of the next bar (28 steps).

6/8 and the other compound meters come from real material in those meters only (Groove has a few
6/8 performances): cutting 4/4 does not make a compound feel.
"""

from __future__ import annotations

import numpy as np

from jambox.errors import TrainingError

# target meter -> (steps taken from bar b, steps taken from bar b+1)
REBARS: dict[tuple[int, int], tuple[int, int]] = {
    (3, 4): (12, 0),
    (5, 4): (16, 4),
    (7, 8): (14, 0),
    (7, 4): (16, 12),
}


def rebar_index(n_steps: int, target: tuple[int, int], src_bar: int = 16) -> np.ndarray:
    """Source step indices that, taken in order, make bars of ``target`` from 4/4 material.

    ``n_steps`` is the source length (bars of ``src_bar`` steps from step 0). Bars that would run
    past the end are dropped.
    """
    if target not in REBARS:
        raise TrainingError(f"re-barring makes {', '.join(f'{n}/{d}' for n, d in REBARS)} from 4/4, not "
                            f"{target[0]}/{target[1]}")
    own, borrowed = REBARS[target]
    idx = []
    n_bars = n_steps // src_bar
    for b in range(n_bars - (1 if borrowed else 0)):
        idx.extend(range(b * src_bar, b * src_bar + own))
        if borrowed:
            idx.extend(range((b + 1) * src_bar, (b + 1) * src_bar + borrowed))
    return np.asarray(idx, dtype=np.int64)
