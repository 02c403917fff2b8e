"""Per-path seeds for Monte Carlo batches: one run seed, one stable child seed per path.

Scheme (the whole contract of this module):

- a run has one integer ``run_seed`` (>= 0) and one :class:`numpy.random.SeedSequence`
  ``SeedSequence(run_seed)``;
- path ``i`` (0-based) gets the child ``SeedSequence(run_seed, spawn_key=(i,))``. That is
  exactly ``SeedSequence(run_seed).spawn(n)[i]`` for any ``n > i``, but computed directly, so
  a path's seed does not depend on how many paths are requested in total, on the number of
  worker processes, or on which paths ran before it;
- the integer handed to :func:`defisim.simulate` as ``seed=`` for path ``i`` is the child's
  first 64-bit word of state shifted right by one bit (so it fits a signed int64 column):
  :func:`path_seed`. The batch runner records it in each row as ``path_seed``; running
  ``simulate(scenario, seed=path_seed)`` alone reproduces that path.

``simulate`` then derives its own named streams (prices, borrower population, agent order)
from that integer (see :mod:`defisim.scenario.assemble`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_run_seed", "path_seed", "path_seed_sequence", "path_seeds"]


def check_run_seed(run_seed: int) -> int:
    """``run_seed`` as an ``int``; :class:`TypeError` unless an integer, :class:`ValueError`
    if negative."""
    if isinstance(run_seed, bool) or not isinstance(run_seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {run_seed!r}")
    if run_seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {run_seed}")
    return int(run_seed)


def path_seed_sequence(run_seed: int, path: int) -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of path ``path`` of the run seeded ``run_seed``.

    Equal (same entropy, same spawn key, same state) to ``SeedSequence(run_seed).spawn(n)[path]``.
    """
    run_seed = check_run_seed(run_seed)
    if isinstance(path, bool) or not isinstance(path, (int, np.integer)) or path < 0:
        raise ValueError(f"path must be a non-negative integer, got {path!r}")
    return np.random.SeedSequence(run_seed, spawn_key=(int(path),))


def path_seed(run_seed: int, path: int) -> int:
    """The integer seed passed to :func:`defisim.simulate` for path ``path`` (0 <= s < 2**63)."""
    word = path_seed_sequence(run_seed, path).generate_state(1, np.uint64)[0]
    return int(word) >> 1


def path_seeds(run_seed: int, paths: int) -> list[int]:
    """:func:`path_seed` for paths ``0 .. paths - 1``."""
    return [path_seed(run_seed, i) for i in range(paths)]
