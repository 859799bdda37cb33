"""Statistical helpers: intervals for proportions and medians, and tests for change.

Rules from the project's statistics guide (../shared/guide/STATS.md); each comes from a library
where one does the job, and the library call is pinned so a new version cannot change a figure:

- unweighted proportion: 95% Wilson score interval (Wilson 1927; Newcombe 1998, method 3), via
  ``statsmodels.stats.proportion.proportion_confint(method="wilson")``;
- weighted survey proportion: Kish effective sample size n_eff = (sum w)^2 / sum(w^2) (Kish 1965,
  hand-written: no library gives it), then a Wilson interval with n_eff;
- change in a proportion: two-proportion z-test with pooled variance, via
  ``statsmodels.stats.proportion.test_proportions_2indep(method="score", correction=False)``:
  at a null difference of zero the Farrington-Manning score test *is* the classic pooled z-test
  that STATS.md asks for (the Miettinen-Nurminen correction would multiply the variance by
  n / (n - 1), negligible at our sizes but no longer the textbook test);
- change in a count: exact conditional test for two Poisson counts (Przyborowski and Wilenski
  1940): given a + b events, a ~ Binomial(a + b, t_a / (t_a + t_b)) under "same rate", via
  ``scipy.stats.binomtest``; below ``MIN_EVENTS_FOR_COUNT_TEST`` events in total it says "too few
  events to test" instead of giving a p-value;
- median: distribution-free interval from binomial order statistics (Conover, Practical
  Nonparametric Statistics, 3rd ed., section 3.2), via ``scipy.stats.quantile_test``.
"""

from __future__ import annotations

import math

import numpy as np

# scipy.stats and statsmodels are imported inside the functions that use them: importing them
# costs most of a second, and the modules that import this one for its names (the families, the
# presentation) must stay quick to import in every notebook kernel.

Z95 = 1.959963984540054
ALPHA = 0.05
#: Fewer events than this in the two periods together: no count test. Ten is the usual floor in
#: official statistics below which a rate or change is not published as reliable; with fewer events
#: one incident producing several crimes (the Poisson model's independence failing) can decide the
#: result, and the interval for the ratio of rates spans more than a factor of four either way.
MIN_EVENTS_FOR_COUNT_TEST = 10

TEST_PROPORTIONS = "two-proportion z-test"
TEST_COUNTS = "exact test for two Poisson counts"


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion, as fractions in [0, 1].

    ``n`` may be a (non-integer) effective sample size. Returns (nan, nan) when n <= 0. The bounds
    are exactly 0 (no successes) or 1 (all successes) at the edges.
    """
    if n is None or math.isnan(n) or n <= 0:
        return (math.nan, math.nan)
    lo, hi = wilson_intervals(np.array([successes], dtype=float), np.array([n], dtype=float), z)
    return (float(lo[0]), float(hi[0]))


def wilson_intervals(successes: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` for arrays, in one call to statsmodels (the panel has thousands of
    proportions; one call each cost a sixth of a second). nan where n <= 0 or n is missing."""
    from scipy import stats as sps
    from statsmodels.stats.proportion import proportion_confint

    n = np.asarray(n, dtype=float)
    ok = np.isfinite(n) & (n > 0)
    lo = np.full(n.shape, math.nan)
    hi = np.full(n.shape, math.nan)
    if ok.any():
        nn = n[ok]
        x = np.minimum(np.maximum(np.asarray(successes, dtype=float)[ok], 0.0), nn)
        alpha = 2 * (1 - sps.norm.cdf(z))
        low, high = proportion_confint(x, nn, alpha=alpha, method="wilson")
        lo[ok] = np.where(x <= 0, 0.0, np.maximum(0.0, low))
        hi[ok] = np.where(x >= nn, 1.0, np.minimum(1.0, high))
    return lo, hi


def kish_effective_n(weights: np.ndarray) -> float:
    """Kish effective sample size (sum w)^2 / sum(w^2); 0 for no weights.

    Why: a weighted estimate from n respondents is as precise as an unweighted one from n_eff,
    so intervals for weighted survey shares use n_eff, never n.
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return 0.0
    return float(w.sum() ** 2 / (w * w).sum())


def weighted_proportion(flags: np.ndarray, weights: np.ndarray) -> dict:
    """Weighted share of True flags with a Wilson interval on the Kish effective n.

    Returns value, ci_low, ci_high as percentages, and n (respondents), n_eff.
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


def two_proportion_test(x1: float, n1: float, x2: float, n2: float, alpha: float = ALPHA) -> dict:
    """Two-sided pooled z-test of p1 == p2 (counts may be non-integer effective counts).

    Returns z, p_value, significant (p < alpha) and test (its name, for the result table). With no
    data on either side, or no variation (pooled p of 0 or 1), nothing can be said: p_value is nan,
    significant False and test says why.
    """
    none = {"z": math.nan, "p_value": math.nan, "significant": False}
    if any(v is None or math.isnan(v) for v in (x1, n1, x2, n2)) or n1 <= 0 or n2 <= 0:
        return {**none, "test": "no test: a period has no cases"}
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return {**none, "test": "no test: no variation (all or none in both periods)"}
    from statsmodels.stats.proportion import test_proportions_2indep

    with np.errstate(divide="ignore", invalid="ignore"):  # its unused ratio extras divide by p2 = 0
        res = test_proportions_2indep(x1, n1, x2, n2, value=0, method="score", compare="diff",
                                      alternative="two-sided", correction=False, return_results=True)
    z, p = float(res.statistic), float(res.pvalue)
    return {"z": z, "p_value": p, "significant": bool(p < alpha), "test": TEST_PROPORTIONS}


def poisson_test(a: float, b: float, t_a: float = 1.0, t_b: float = 1.0, *,
                 min_events: int = MIN_EVENTS_FOR_COUNT_TEST, alpha: float = ALPHA) -> dict:
    """Exact conditional test that two Poisson counts have the same rate.

    ``a`` events in exposure ``t_a`` (e.g. this quarter's days) against ``b`` in ``t_b`` (same
    quarter last year). Given n = a + b, a ~ Binomial(n, t_a / (t_a + t_b)) when the rates are
    equal; the two-sided p-value is scipy's ``binomtest`` (minimum-likelihood method). Why:
    volumes of crime are counts, not proportions, and a change such as 314 against 263 needs a
    test before it is called real.

    Returns p_value, significant, test (words for the result table), n_events, rate_ratio
    ((a / t_a) / (b / t_b)) and its exact 95% interval (ratio_low, ratio_high) from the
    Clopper-Pearson interval of the binomial proportion. With fewer than ``min_events`` events
    in total, p_value is nan, significant is None and test says "too few events to test (N)".
    """
    out = {"p_value": math.nan, "significant": None, "n_events": math.nan, "rate_ratio": math.nan,
           "ratio_low": math.nan, "ratio_high": math.nan}
    if any(v is None or math.isnan(v) for v in (a, b, t_a, t_b)) or t_a <= 0 or t_b <= 0:
        return {**out, "test": "no test: a period has no count"}
    if a < 0 or b < 0 or a != int(a) or b != int(b):
        raise ValueError(f"poisson_test needs whole non-negative counts, got {a!r} and {b!r}")
    a, b = int(a), int(b)
    n = a + b
    out["n_events"] = n
    if n < min_events:
        return {**out, "test": f"too few events to test ({n})"}
    from scipy import stats as sps

    share = t_a / (t_a + t_b)
    res = sps.binomtest(a, n, share, alternative="two-sided")
    ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
    odds = lambda p: math.inf if p >= 1 else p / (1 - p)  # noqa: E731
    scale = t_b / t_a
    p_value = float(res.pvalue)
    return {"p_value": p_value, "significant": bool(p_value < alpha), "n_events": n,
            "rate_ratio": (a / t_a) / (b / t_b) if b > 0 else math.inf,
            "ratio_low": odds(ci.low) * scale, "ratio_high": odds(ci.high) * scale,
            "test": TEST_COUNTS}


def median_interval_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """1-based ranks (l, u) of the order statistics bounding the median with at least the given
    coverage: the largest l with P(Bin(n, 1/2) <= l - 1) <= alpha/2, and u = n + 1 - l (scipy's
    binomial CDF). None when n is too small for that coverage (n < 6 for 95%)."""
    if n <= 0:
        return None
    from scipy import stats as sps

    alpha = 1 - confidence
    cdf = sps.binom.cdf(np.arange(0, n // 2 + 1), n, 0.5)
    lower = int((cdf <= alpha / 2).sum())  # cdf is increasing: count of i with P(X <= i) <= alpha/2
    if lower == 0:
        return None
    return lower, n + 1 - lower


def median_with_interval(values: np.ndarray, confidence: float = 0.95) -> dict:
    """Median and its distribution-free interval (``scipy.stats.quantile_test``: binomial order
    statistics); interval nan when n is too small (n < 6 for 95%)."""
    v = np.asarray(values, dtype=float)
    n = int(v.size)
    if n == 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0}
    from scipy import stats as sps

    median = float(np.median(v))
    ci = sps.quantile_test(v, q=median, p=0.5).confidence_interval(confidence)
    return {"value": median, "ci_low": float(ci.low), "ci_high": float(ci.high), "n": n}

