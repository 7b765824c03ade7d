"""The statistics of the analysis page. Pure: no Django, no scipy (the standard library's
erfc and a regularised incomplete gamma are all the p-values need).

- Proportions get Wilson's 95% score interval:
  (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = 1.959964.
- An arm against control, for a proportion: the pooled two-proportion z-test,
  p̄ = (x₁ + x₀)/(n₁ + n₀), z = (p̂₁ − p̂₀) / √(p̄(1−p̄)(1/n₁ + 1/n₀)),
  two-sided p = erfc(|z|/√2); the difference's interval is the unpooled Wald one,
  (p̂₁ − p̂₀) ± z·√(p̂₁(1−p̂₁)/n₁ + p̂₀(1−p̂₀)/n₀).
- Means (reviews per learner) get a normal-approximation interval, mean ± z·s/√n, and
  Welch's test against control with a normal reference (the arms have hundreds of learners
  when the test means anything; with fewer than two learners nothing is computed).
- Sample-ratio mismatch: Pearson's χ² of the assignment counts against the configured split,
  k − 1 degrees of freedom; it fires when p < SRM_ALPHA (0.001, the threshold the field
  uses: Kohavi et al., Trustworthy Online Controlled Experiments, ch. 21), which a fair split
  crosses once in a thousand experiments.
"""

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Comparison:
    difference: float | None
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None
    note: str = ""  # why nothing was computed


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Proportion:
    if trials <= 0:
        return Proportion(successes, trials, None, None, None)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Proportion(successes, trials, p, max(0.0, centre - half), min(1.0, centre + half))


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion_test(x1: int, n1: int, x0: int, n0: int, z_crit: float = Z_95) -> Comparison:
    """Arm (x1 of n1) against control (x0 of n0): the pooled z-test and the difference's
    interval (module docstring)."""
    if n1 <= 0 or n0 <= 0:
        return Comparison(None, None, None, None, None, "no observations in one of the arms")
    p1, p0 = x1 / n1, x0 / n0
    pooled = (x1 + x0) / (n1 + n0)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    se_diff = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    difference = p1 - p0
    if se_pooled == 0:
        return Comparison(difference, difference, difference, None, None,
                          "every observation in both arms has the same outcome")  # fmt: skip
    z = difference / se_pooled
    return Comparison(
        difference,
        difference - z_crit * se_diff,
        difference + z_crit * se_diff,
        z,
        normal_two_sided_p(z),
    )


@dataclass(frozen=True)
class Mean:
    n: int
    mean: float | None
    low: float | None
    high: float | None
    variance: float | None


def mean_interval(values: list[float], z: float = Z_95) -> Mean:
    n = len(values)
    if n == 0:
        return Mean(0, None, None, None, None)
    mean = sum(values) / n
    if n < 2:
        return Mean(n, mean, None, None, None)
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return Mean(n, mean, mean - half, mean + half, variance)


def welch_test(arm: Mean, control: Mean, z_crit: float = Z_95) -> Comparison:
    if arm.variance is None or control.variance is None:
        return Comparison(None, None, None, None, None, "fewer than two learners in an arm")
    difference = arm.mean - control.mean
    se = math.sqrt(arm.variance / arm.n + control.variance / control.n)
    if se == 0:
        return Comparison(difference, difference, difference, None, None,
                          "no variation in either arm")  # fmt: skip
    z = difference / se
    return Comparison(
        difference, difference - z_crit * se, difference + z_crit * se, z, normal_two_sided_p(z)
    )


@dataclass(frozen=True)
class SampleRatio:
    observed: list[int]
    expected: list[float]
    chi_square: float | None
    degrees_of_freedom: int
    p_value: float | None
    mismatch: bool
    note: str = ""


def sample_ratio_check(observed: list[int], weights: list[int], alpha=SRM_ALPHA) -> SampleRatio:
    """Pearson's χ² of the assignment counts against the split ``weights``."""
    total = sum(observed)
    degrees = len(observed) - 1
    if total == 0 or degrees < 1:
        return SampleRatio(list(observed), [], None, degrees, None, False, "no learners assigned")
    share = sum(weights)
    expected = [total * w / share for w in weights]
    chi_square = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    p_value = chi_square_survival(chi_square, degrees)
    return SampleRatio(list(observed), expected, chi_square, degrees, p_value, p_value < alpha)


def chi_square_survival(x: float, degrees: int) -> float:
    """P(χ²_k ≥ x) = Q(k/2, x/2), the regularised upper incomplete gamma function."""
    if x <= 0:
        return 1.0
    return _gamma_q(degrees / 2, x / 2)


def _gamma_q(a: float, x: float) -> float:
    # Numerical Recipes' gammq: the series for x < a + 1, else Lentz's continued fraction.
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
