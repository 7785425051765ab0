"""Counter-based uniform random numbers (Philox4x32-10), vectorised with numpy.

A counter-based generator maps (key, counter) to random bits with no state carried between
calls (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011;
the Random123 library). The simulations key it by the seed and count by (trial, cohort,
block), so trial t's outcomes do not depend on how many trials run beside it or on how the
trials are split into chunks: a chunked run gives the same figures as an unchunked one.

Checked against the Random123 known-answer vectors (tests/analysis/test_philox.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_ROUNDS = 10
_TWO_TO_MINUS_32 = 2.0**-32


def philox4x32(
    counter: tuple[U64, U64, U64, U64], key: tuple[int, int]
) -> tuple[U64, U64, U64, U64]:
    """Philox4x32-10 of each counter (four arrays of 32-bit words held in uint64) under `key`."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(_ROUNDS):
        if r:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        p0 = _M0 * c0  # 32 x 32 bits: exact in 64 bits
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> _SHIFT) ^ c1 ^ np.uint64(k0),
            p1 & _MASK,
            (p0 >> _SHIFT) ^ c3 ^ np.uint64(k1),
            p0 & _MASK,
        )
    return c0, c1, c2, c3


def key_from_seed(seed: int) -> tuple[int, int]:
    """Two 32-bit key words from a non-negative integer seed (numpy's SeedSequence hashing)."""
    words = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return int(words[0]), int(words[1])


def uniforms(
    key: tuple[int, int], trials: npt.NDArray[np.int64], step: int, count: int
) -> npt.NDArray[np.float64]:
    """`count` uniforms in (0, 1) for each trial id at cohort `step`: shape (len(trials), count).

    Counter = (trial id low word, trial id high word, step, block); each block gives four
    32-bit words, so resolution is 2^-32 (a bias below 1e-9 in any simulated probability).
    """
    blocks = -(-count // 4)
    t = trials.astype(np.uint64)
    lo, hi = t & _MASK, t >> _SHIFT
    if blocks > 1:
        lo, hi = np.repeat(lo, blocks), np.repeat(hi, blocks)
    st = np.full(lo.shape, step, dtype=np.uint64)
    blk = np.tile(np.arange(blocks, dtype=np.uint64), t.size)
    words = philox4x32((lo, hi, st, blk), key)
    bits = np.empty((lo.size, 4), dtype=np.float64)
    for j, w in enumerate(words[: min(count, 4)] if blocks == 1 else words):
        bits[:, j] = w
    bits = bits.reshape(t.size, blocks * 4)[:, :count]
    return (bits + 0.5) * _TWO_TO_MINUS_32
