"""Philox4x32-10 against the Random123 known-answer vectors, and the uniforms built on it."""

from __future__ import annotations

import numpy as np
import pytest

from generator.analysis import philox

# Random123 tests/kat_vectors (github.com/DEShawResearch/random123), the three
# "philox4x32 10" lines: counter (4 words), key (2 words), expected output (4 words).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox4x32_10_known_answers(
    counter: tuple[int, int, int, int], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    words = tuple(np.array([c], dtype=np.uint64) for c in counter)
    out = philox.philox4x32(words, key)  # type: ignore[arg-type]
    assert tuple(int(w[0]) for w in out) == expected


def test_uniforms_depend_only_on_trial_step_and_key() -> None:
    key = philox.key_from_seed(5)
    ids = np.array([0, 7, 2**33 + 1], dtype=np.int64)
    all_three = philox.uniforms(key, ids, 4, 6)
    alone = philox.uniforms(key, ids[1:2], 4, 6)
    assert all_three.shape == (3, 6)
    assert np.array_equal(all_three[1:2], alone)
    assert not np.array_equal(all_three[0], all_three[2])  # high word of the id counts
    assert not np.array_equal(philox.uniforms(key, ids, 5, 6), all_three)
    assert not np.array_equal(philox.uniforms(philox.key_from_seed(6), ids, 4, 6), all_three)
    assert ((all_three > 0) & (all_three < 1)).all()


def test_uniforms_are_uniform() -> None:
    u = philox.uniforms(philox.key_from_seed(1), np.arange(200_000, dtype=np.int64), 0, 3)
    assert abs(u.mean() - 0.5) < 0.002
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    expected = u.size / 10
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 30  # 9 degrees of freedom: P(chi2 > 30) < 0.001
