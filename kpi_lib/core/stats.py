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
  Nonparametric Statistics, 3rd ed., section 3.2), via ``scipy.stats.quantile_test``;
- change in a count against last year, allowing for overdispersion: quasi-Poisson (McCullagh and
  Nelder 1989, section 4.5): the log rate ratio of two Poisson counts, its standard error
  multiplied by the square root of a dispersion estimated from the series' own deseasonalised
  monthly history (Pearson chi-square over residual degrees of freedom of a ``statsmodels``
  Poisson GLM with a level per financial year and a seasonal curve), tested against Student's t
  on those degrees of freedom;
- change in a proportion with its interval: Newcombe's hybrid score interval for a difference of
  two proportions (Newcombe 1998, method 10), via
  ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``;
- change in a median: Mood's median test (``scipy.stats.median_test``) with a percentile
  bootstrap interval for the difference of the medians (seeded, so the same data give the same
  interval);
- many tests in one report: Benjamini-Hochberg false discovery rate (Benjamini and Hochberg 1995),
  via ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``.
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
TEST_QUASI_POISSON = "quasi-Poisson test"
TEST_MEDIANS = "Mood's median test"
#: Months of history needed to estimate a count's dispersion; with fewer, it is taken as 1 (plain
#: Poisson) and the test says so.
MIN_DISPERSION_MONTHS = 12
#: Bootstrap replicates for the interval of a change in a median (seeded: same data, same interval).
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 20240401


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



# ------------------------------------------------------------------------------ changes with intervals
def _harmonic_terms(month: np.ndarray, pairs: int) -> np.ndarray:
    angle = 2 * np.pi * np.asarray(month, dtype=float)[:, None] * np.arange(1, pairs + 1) / 12
    return np.hstack([np.cos(angle), np.sin(angle)])


def count_dispersion(period_starts, counts, days, *, min_months: int = MIN_DISPERSION_MONTHS) -> dict:
    """How much more a count varies than a Poisson count would: Pearson chi-square over residual
    degrees of freedom of a Poisson GLM (statsmodels) of the monthly counts with log(days) as
    offset, one level per financial year (April to March: a slow drift or a step between years is
    not noise) and a seasonal curve of two sine and cosine pairs (one pair for a quarterly series).

    Returns dispersion (floored at 1: a count is never treated as steadier than Poisson), the raw
    estimate, df (its residual degrees of freedom; inf when not estimated) and points. With fewer
    than ``min_months`` points, or under 6 residual degrees of freedom, the dispersion is 1 and
    ``estimated`` is False.
    """
    import pandas as pd
    import statsmodels.api as sm

    t = pd.to_datetime(pd.Series(list(period_starts)))
    y = np.asarray(counts, dtype=float)
    d = np.asarray(days, dtype=float)
    ok = np.isfinite(y) & np.isfinite(d) & (d > 0) & (y >= 0)
    t, y, d = t[ok].reset_index(drop=True), y[ok], d[ok]
    out = {"dispersion": 1.0, "raw": math.nan, "df": math.inf, "points": int(y.size), "estimated": False}
    if y.size < min_months or y.sum() <= 0:
        return out
    month = t.dt.month.to_numpy()
    fy = t.dt.year.to_numpy() - (month < 4)
    quarterly = len(set(month.tolist())) <= 4
    levels = pd.get_dummies(pd.Series(fy).astype(str), dtype=float).to_numpy()
    design = np.hstack([levels, _harmonic_terms(month, 1 if quarterly else 2)])
    # drop columns that add nothing (e.g. a harmonic constant over the months present)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        rank_cols: list[int] = []
        for j in range(design.shape[1]):
            if np.linalg.matrix_rank(design[:, rank_cols + [j]]) == len(rank_cols) + 1:
                rank_cols.append(j)
        design = design[:, rank_cols]
    df_resid = y.size - design.shape[1]
    if df_resid < 6:
        return out
    fit = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(d)).fit()
    raw = float(fit.pearson_chi2 / df_resid)
    return {"dispersion": max(1.0, raw), "raw": raw, "df": float(df_resid), "points": int(y.size),
            "estimated": True}


def quasi_poisson_change(a: float, b: float, t_a: float, t_b: float, *, dispersion: float = 1.0,
                         df: float = math.inf, min_events: int = MIN_EVENTS_FOR_COUNT_TEST,
                         alpha: float = ALPHA) -> dict:
    """Change in a count against an earlier period, allowing for overdispersion.

    ``a`` events in exposure ``t_a`` days against ``b`` in ``t_b``. The log of the rate ratio
    (a / t_a) / (b / t_b) has standard error sqrt(dispersion * (1/a + 1/b)): exactly what a
    Poisson GLM of the two counts with offsets log(t) and its scale fixed at ``dispersion`` gives
    (quasi-Poisson; the tests check it against statsmodels), written out because the two-point
    model is saturated. The
    p-value and the 95% interval use Student's t on ``df`` degrees of freedom (those of the
    dispersion estimate; the normal distribution when it was not estimated).

    Returns p_value, rate_ratio with ratio_low and ratio_high (per day), pct_low and pct_high (the
    interval of the % change in the count itself: the rate ratio times the ratio of the days, so
    its centre is the displayed change a / b - 1), n_events, dispersion and test (its words).
    Fewer than ``min_events`` events in total: no test ("too few events to test (N)"). A zero
    count in one period: the log ratio is infinite, so the exact conditional test of
    :func:`poisson_test` is used on the counts divided by the dispersion (rounded).
    """
    from scipy import stats as sps

    out = {"p_value": math.nan, "rate_ratio": math.nan, "ratio_low": math.nan, "ratio_high": math.nan,
           "pct_low": math.nan, "pct_high": math.nan, "n_events": math.nan, "dispersion": dispersion}
    if any(v is None or math.isnan(v) for v in (a, b, t_a, t_b)) or t_a <= 0 or t_b <= 0:
        return {**out, "test": "no test: a period has no count"}
    if a < 0 or b < 0:
        raise ValueError(f"quasi_poisson_change needs non-negative counts, got {a!r} and {b!r}")
    phi = max(1.0, float(dispersion)) if np.isfinite(dispersion) else 1.0
    n = a + b
    out["n_events"] = n
    out["dispersion"] = phi
    if n < min_events:
        return {**out, "test": f"too few events to test ({n:,.0f})"}
    words = f"{TEST_QUASI_POISSON} (dispersion {phi:.2f})"
    days = t_a / t_b
    if a == 0 or b == 0:
        exact = poisson_test(round(a / phi), round(b / phi), t_a, t_b, min_events=1, alpha=alpha)
        lo, hi = exact["ratio_low"], exact["ratio_high"]
        return {**out, "p_value": exact["p_value"], "rate_ratio": exact["rate_ratio"],
                "ratio_low": lo, "ratio_high": hi, "pct_low": 100 * (lo * days - 1),
                "pct_high": 100 * (hi * days - 1) if np.isfinite(hi) else math.inf,
                "test": words + ", exact because one period has none"}
    log_ratio = math.log((a / t_a) / (b / t_b))
    se = math.sqrt(phi * (1 / a + 1 / b))  # the GLM's standard error with its scale fixed at phi
    dist = sps.norm if not np.isfinite(df) else sps.t(df)
    p_value = float(2 * dist.sf(abs(log_ratio) / se))
    q = float(dist.ppf(1 - alpha / 2))
    lo, hi = math.exp(log_ratio - q * se), math.exp(log_ratio + q * se)
    return {**out, "p_value": p_value, "rate_ratio": math.exp(log_ratio), "ratio_low": lo,
            "ratio_high": hi, "pct_low": 100 * (lo * days - 1), "pct_high": 100 * (hi * days - 1),
            "test": words}


def proportion_difference(x1: float, n1: float, x2: float, n2: float, alpha: float = ALPHA) -> dict:
    """Change in a proportion (p1 - p2, in percentage points) with its 95% interval (Newcombe's
    hybrid score interval) and the pooled two-proportion z-test of :func:`two_proportion_test`.
    Counts may be non-integer (effective counts of a weighted survey). Returns diff, low, high
    (points), p_value and test."""
    test = two_proportion_test(x1, n1, x2, n2, alpha)
    out = {"diff": math.nan, "low": math.nan, "high": math.nan, "p_value": test["p_value"],
           "test": test["test"]}
    if any(v is None or math.isnan(v) for v in (x1, n1, x2, n2)) or n1 <= 0 or n2 <= 0:
        return out
    from statsmodels.stats.proportion import confint_proportions_2indep

    out["diff"] = 100 * (x1 / n1 - x2 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha)
    out["low"], out["high"] = 100 * float(lo), 100 * float(hi)
    return out


def _binned_median(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of binned data for each row of ``counts`` (replicates x bins): the value of the bin
    holding the middle observation (the lower middle for an even total)."""
    c = np.atleast_2d(counts)
    cum = np.cumsum(c, axis=1)
    half = (cum[:, -1] + 1) // 2
    idx = (cum < half[:, None]).sum(axis=1)
    return np.asarray(values)[idx]


def bootstrap_binned_medians(values: np.ndarray, counts: np.ndarray, reps: int,
                             rng: np.random.Generator) -> np.ndarray:
    """``reps`` bootstrap replicates of the (lower) median of binned data (``values`` sorted).

    A replicate resamples the n observations with replacement; its median is the h-th smallest
    draw, h = (n + 1) // 2. The h-th smallest of n draws from a distribution F is F⁻¹(U) with U
    the h-th smallest of n uniforms, which is Beta(h, n - h + 1). So each replicate's median is
    drawn directly, the first bin whose cumulative share reaches a Beta draw: the same
    distribution as resampling every bin's count (a multinomial draw of n), in reps draws
    instead of reps x bins."""
    c = np.asarray(counts, dtype=np.int64)
    n = int(c.sum())
    h = (n + 1) // 2
    share = np.cumsum(c) / n
    u = rng.beta(h, n - h + 1, size=reps)
    idx = np.minimum(np.searchsorted(share, u, side="left"), len(share) - 1)
    return np.asarray(values)[idx]


def median_difference(values_a: np.ndarray, counts_a: np.ndarray, values_b: np.ndarray,
                      counts_b: np.ndarray, *, alpha: float = ALPHA, reps: int = BOOTSTRAP_REPS,
                      seed: int = BOOTSTRAP_SEED) -> dict:
    """Change in a median between two samples given as binned values (value, count), e.g.
    response times to the nearest 6 seconds.

    Test: Mood's median test (``scipy.stats.median_test``: counts above and below the pooled
    median, chi-square on the 2 x 2 table). Interval: percentile bootstrap of the difference of
    the two medians, each replicate resampling each sample from its own counts (drawn as the
    median's order statistic: :func:`bootstrap_binned_medians`), ``reps`` replicates from a
    fixed ``seed``. Returns diff (median a - median b, of the binned data),
    low, high, p_value, n_a, n_b and test."""
    from scipy import stats as sps

    va, ca = np.asarray(values_a, dtype=float), np.asarray(counts_a, dtype=np.int64)
    vb, cb = np.asarray(values_b, dtype=float), np.asarray(counts_b, dtype=np.int64)
    na, nb = int(ca.sum()), int(cb.sum())
    out = {"diff": math.nan, "low": math.nan, "high": math.nan, "p_value": math.nan, "n_a": na, "n_b": nb}
    if na < 1 or nb < 1:
        return {**out, "test": "no test: a period has no times"}
    if na + nb < 2 * MIN_EVENTS_FOR_COUNT_TEST:
        return {**out, "test": f"too few times to test ({na + nb})"}
    oa, ob = np.argsort(va), np.argsort(vb)
    va, ca, vb, cb = va[oa], ca[oa], vb[ob], cb[ob]
    sample_a, sample_b = np.repeat(va, ca), np.repeat(vb, cb)
    try:
        _, p_value, _, _ = sps.median_test(sample_a, sample_b)
    except ValueError:  # every time on the pooled median: no information
        return {**out, "test": "no test: no variation around the median"}
    rng = np.random.default_rng(seed)
    boot_a = bootstrap_binned_medians(va, ca, reps, rng)
    boot_b = bootstrap_binned_medians(vb, cb, reps, rng)
    d = boot_a - boot_b
    diff = float(_binned_median(va, ca)[0] - _binned_median(vb, cb)[0])
    return {**out, "diff": diff, "low": float(np.quantile(d, alpha / 2)),
            "high": float(np.quantile(d, 1 - alpha / 2)), "p_value": float(p_value), "test": TEST_MEDIANS}


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg q-values (false discovery rate) of the p-values given; nan stays nan
    and is not counted among the tests."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, math.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q
