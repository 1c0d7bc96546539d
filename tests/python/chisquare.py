"""Pearson's chi-square test at a fixed significance, with no third-party module.

Each uniformity test rejects when the statistic exceeds the upper
ALPHA-quantile of the chi-square distribution with the test's degrees of
freedom.  ALPHA = 1e-6 makes a false failure a one-in-a-million event per
test, while a biased generator still fails by a wide margin at these sample
sizes.  The quantile comes from the regularized upper incomplete gamma
function Q(k/2, x/2) (Numerical Recipes §6.2: series below a+1, continued
fraction above), inverted by bisection.
"""

from __future__ import annotations

import math
from typing import Dict, Hashable, Iterable, Sequence

ALPHA = 1e-6


def _upper_gamma_q(a: float, x: float) -> float:
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return 1.0 - total * math.exp(log_prefix)
    tiny = 1e-300  # Lentz's continued fraction for Q
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    i = 1
    while True:
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        i += 1
        if abs(delta - 1) < 1e-15:
            return math.exp(log_prefix) * h


def survival(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square(dof)."""
    return _upper_gamma_q(dof / 2, statistic / 2)


def critical_value(dof: int, alpha: float = ALPHA) -> float:
    low, high = 0.0, float(dof) + 100.0 * math.sqrt(dof) + 100.0
    for _ in range(200):
        mid = (low + high) / 2
        if survival(mid, dof) > alpha:
            low = mid
        else:
            high = mid
    return high


def statistic(counts: Dict[Hashable, int], categories: Iterable[Hashable], expected: float) -> float:
    return sum((counts.get(c, 0) - expected) ** 2 / expected for c in categories)


def assert_uniform(draws: Sequence[Hashable], categories: Sequence[Hashable], what: str) -> None:
    """The draws fall on the categories (each equally likely) as a uniform source's would."""
    counts: Dict[Hashable, int] = {}
    for value in draws:
        counts[value] = counts.get(value, 0) + 1
    stray = set(counts) - set(categories)
    assert not stray, f"{what}: values outside the range: {sorted(map(str, stray))[:5]}"
    expected = len(draws) / len(categories)
    assert expected >= 5, f"{what}: too few draws for a chi-square test"
    x2 = statistic(counts, categories, expected)
    limit = critical_value(len(categories) - 1)
    assert x2 <= limit, (f"{what}: chi-square {x2:.1f} > {limit:.1f} "
                         f"(dof {len(categories) - 1}, p = {survival(x2, len(categories) - 1):.2e})")
