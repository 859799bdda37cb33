"""Statistical helpers: intervals for proportions and medians, and tests for change.

Rules from the project's statistics guide (../shared/guide/STATS.md):
- unweighted proportion: 95% Wilson score interval (Wilson 1927; Newcombe 1998, method 3);
- weighted survey proportion: Kish effective sample size n_eff = (sum w)^2 / sum(w^2), then
  a Wilson interval with n_eff (Kish 1965);
- change in a proportion: two-proportion z-test with pooled variance;
- median: distribution-free interval from binomial order statistics (Conover, Practical
  Nonparametric Statistics, 3rd ed., section 3.2).
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion, as fractions in [0, 1].

    ``n`` may be a (non-integer) effective sample size. Returns (nan, nan) when n <= 0.
    """
    if not n or n <= 0 or math.isnan(n):
        return (math.nan, math.nan)
    p = min(max(successes / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def kish_effective_n(weights: np.ndarray) -> float:
    """Kish effective sample size (sum w)^2 / sum(w^2); 0 for no weights."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return 0.0
    return float(w.sum() ** 2 / (w * w).sum())


def weighted_proportion(flags: np.ndarray, weights: np.ndarray) -> dict:
    """Weighted share of True flags with a Wilson interval on the Kish effective n.

    Returns estimate, ci_low, ci_high as percentages, and n (respondents), n_eff.
    """
    f = np.asarray(flags, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n = int(f.size)
    if n == 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "n_eff": 0.0,
                "weighted_yes": 0.0, "weighted_total": 0.0}
    total = float(w.sum())
    yes = float(w[f].sum())
    p = yes / total
    n_eff = kish_effective_n(w)
    lo, hi = wilson_interval(p * n_eff, n_eff)
    return {"value": 100 * p, "ci_low": 100 * lo, "ci_high": 100 * hi, "n": n, "n_eff": n_eff,
            "weighted_yes": yes, "weighted_total": total}


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> dict:
    """Two-sided pooled z-test of p1 == p2. Returns z, p_value and significant (at 5%).

    With no data on either side, or no variation (pooled p of 0 or 1), nothing can be said:
    p_value is nan and significant is False.
    """
    if not n1 or not n2 or n1 <= 0 or n2 <= 0:
        return {"z": math.nan, "p_value": math.nan, "significant": False}
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return {"z": math.nan, "p_value": math.nan, "significant": False}
    z = (p1 - p2) / se
    p_value = 2 * (1 - _normal_cdf(abs(z)))
    return {"z": z, "p_value": p_value, "significant": p_value < 0.05}


def median_interval_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """1-based ranks (l, u) of the order statistics bounding the median with at least the
    given coverage: the largest l with P(Bin(n, 1/2) <= l - 1) <= alpha/2, and u = n + 1 - l.
    None when n is too small for that coverage (n < 6 for 95%). The binomial CDF is summed once
    in log space, so the cost is linear in n."""
    alpha = 1 - confidence
    if n <= 0:
        return None
    i = np.arange(0, n // 2 + 1)
    lg = np.vectorize(math.lgamma, otypes=[float])
    log_pmf = math.lgamma(n + 1) - lg(i + 1) - lg(n - i + 1) + n * math.log(0.5)
    cdf = np.exp(np.logaddexp.accumulate(log_pmf))
    lower = int((cdf <= alpha / 2).sum())  # cdf is increasing: count of i with P(X <= i) <= alpha/2
    if lower == 0:
        return None
    return lower, n + 1 - lower


def median_with_interval(values: np.ndarray, confidence: float = 0.95) -> dict:
    """Median and its order-statistic interval; interval nan when n is too small."""
    v = np.sort(np.asarray(values, dtype=float))
    n = int(v.size)
    if n == 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0}
    ranks = median_interval_ranks(n, confidence)
    lo, hi = (math.nan, math.nan) if ranks is None else (v[ranks[0] - 1], v[ranks[1] - 1])
    return {"value": float(np.median(v)), "ci_low": float(lo), "ci_high": float(hi), "n": n}
