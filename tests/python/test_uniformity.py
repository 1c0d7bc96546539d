"""Uniformity of what rngpool.secrets and rngpool.SystemRandom draw (chi-square, p = 1e-6)."""

from __future__ import annotations

import itertools
import random

import pytest

import rngpool
from chisquare import assert_uniform, critical_value, survival
from rngpool import secrets

generator = rngpool.SystemRandom()


RANDBELOW10_DRAWS = 50000  # enough to catch one value of ten drawn 10% too often


def test_the_test_rejects_a_biased_source():
    # A seeded (so deterministic) source drawing 0 about 10% too often fails
    # the check at test_randbelow's sample size, and the same source unbiased passes.
    rng = random.Random(12345)
    biased = [0 if rng.random() < 0.011 else rng.randrange(10) for _ in range(RANDBELOW10_DRAWS)]
    with pytest.raises(AssertionError, match="chi-square"):
        assert_uniform(biased, range(10), "biased")
    assert_uniform([rng.randrange(10) for _ in range(RANDBELOW10_DRAWS)], range(10), "seeded")


def test_critical_values_are_the_chi_square_quantiles():
    assert critical_value(1, 0.05) == pytest.approx(3.841, abs=1e-3)
    assert critical_value(10, 0.05) == pytest.approx(18.307, abs=1e-3)
    assert critical_value(1, 1e-6) == pytest.approx(23.928, abs=1e-3)
    assert survival(critical_value(50), 50) == pytest.approx(1e-6, rel=1e-6)


@pytest.mark.parametrize("n,draws", [(2, 2000), (10, RANDBELOW10_DRAWS), (37, 37 * 300)])
def test_randbelow(n, draws):
    assert_uniform([secrets.randbelow(n) for _ in range(draws)], range(n), f"randbelow({n})")


def test_randbelow_beyond_64_bits():
    # Bounds past the C API's uint64 take the rejection path: the top part must be uniform too.
    n = 3 << 64
    assert_uniform([secrets.randbelow(n) >> 64 for _ in range(3000)], range(3), "randbelow(3 << 64) >> 64")


def test_choice():
    population = "abcdefg"
    assert_uniform([secrets.choice(population) for _ in range(7000)], population, "choice")


def test_shuffle():
    permutations = list(itertools.permutations(range(4)))
    draws = []
    for _ in range(24 * 200):
        deck = [0, 1, 2, 3]
        generator.shuffle(deck)
        draws.append(tuple(deck))
    assert_uniform(draws, permutations, "shuffle of 4")


def test_sample():
    pairs = list(itertools.permutations(range(6), 2))
    assert_uniform([tuple(generator.sample(range(6), 2)) for _ in range(30 * 200)], pairs, "sample(6, 2)")


def test_random():
    assert_uniform([int(generator.random() * 20) for _ in range(20 * 500)], range(20), "random() in 20 bins")


@pytest.mark.parametrize("k", [1, 7, 8, 63, 64, 65, 1000])
def test_getrandbits(k):
    draws = 4000 if k < 100 else 1500
    values = [generator.getrandbits(k) for _ in range(draws)]
    assert all(0 <= v < (1 << k) for v in values)
    # Every bit position is a fair coin: the sum of k one-degree statistics is chi-square(k).
    ones = [sum((v >> bit) & 1 for v in values) for bit in range(k)]
    x2 = sum((o - draws / 2) ** 2 / (draws / 4) for o in ones)
    assert x2 <= critical_value(k), f"getrandbits({k}): bit balance chi-square {x2:.1f}, p = {survival(x2, k):.2e}"
    # The value itself, bucketed by its top bits (at most 8 of them): uniform too.
    top = min(k, 8)
    assert_uniform([v >> (k - top) for v in values], range(1 << top), f"getrandbits({k}) top {top} bits")


def test_randbits_of_the_secrets_module():
    assert_uniform([secrets.randbits(3) for _ in range(4000)], range(8), "secrets.randbits(3)")
