"""Half-life regression (Settles & Meeder, "A Trainable Spaced Repetition Model for Language
Learning", ACL 2016).

The memory of an item decays exponentially, p = 2^(−Δ/h), with a half-life that is
log-linear in the learner's history of that item, ĥ = 2^(θ·x). The features follow the paper's
reference implementation (github.com/duolingo/halflife-regression): √(1 + correct answers),
√(1 + wrong answers), a bias, and one-hot item or concept (the paper's lexeme) indicators.
Indicators can be dense columns of ``X`` (:func:`hlr_features` with ``n_concepts``) or, for
thousands of items, an ``indicator_index`` per row with one extra weight per indicator after
the dense ones (the gradient is then a bincount, not a dense matrix product).

Training minimises, averaged over the training reviews,

    ℓ = L(p, p̂) + α·(h − ĥ)² + λ·‖θ without the bias‖²₂,   h = −Δ / log₂(p),

where the recall term L is the log loss −[p ln p̂ + (1 − p) ln(1 − p̂)] (``recall_loss="log"``,
the default) or the paper's squared error (p − p̂)² (``"squared"``). p is the observed recall
(0/1, or the fraction correct in a session) clipped to [0.0001, 0.9999]; h and ĥ are clipped
to [15 minutes, 274 days], as in the paper.

Why log loss and why α and λ are chosen by validation (``apps.scheduler.hlr_training`` and
the evaluation do that), not fixed at the paper's α = 0.01, λ = 0.1: with binary outcomes the
half-life target is degenerate (every recall asks for the 274-day ceiling, every lapse for
Δ/13.3), so a fixed α = 0.01 drowns the recall term and gives new items half-lives of
months; and the recall probability is what the scheduler and the evaluation use, so it is
fitted on the metric it is judged by. The bias is not shrunk (it sets the typical half-life).
Gradients treat the clips as the identity (as the reference implementation does); the
optimiser is full-batch (or mini-batch) Adam.
"""

from dataclasses import dataclass, field

import numpy as np

LN2 = float(np.log(2.0))
MIN_HALF_LIFE_DAYS = 15.0 / (24 * 60)
MAX_HALF_LIFE_DAYS = 274.0
MIN_P, MAX_P = 0.0001, 0.9999
FEATURE_NAMES = ("sqrt_correct", "sqrt_wrong", "bias")
N_BASE_FEATURES = len(FEATURE_NAMES)
BIAS_COLUMN = 2
RECALL_LOSSES = ("log", "squared")


@dataclass
class HLRModel:
    """θ = the dense weights (one per column of X), then one weight per indicator."""

    theta: np.ndarray
    loss_history: list[float] = field(default_factory=list)
    n_indicators: int = 0

    def half_life(self, X: np.ndarray, indicator_index=None) -> np.ndarray:
        return hlr_half_life(X, self.theta, indicator_index)

    def predict_recall(self, X: np.ndarray, delta_days: np.ndarray, indicator_index=None):
        return hlr_recall(delta_days, self.half_life(X, indicator_index))


def hlr_features(
    correct_counts,
    wrong_counts,
    concept_index=None,
    n_concepts: int = 0,
) -> np.ndarray:
    """Design matrix: columns √(1+correct), √(1+wrong), 1, then ``n_concepts`` indicators.

    ``concept_index`` holds each row's concept in 0..n_concepts−1 (a negative index means no
    concept: all indicators 0).
    """
    correct = np.asarray(correct_counts, dtype=float).reshape(-1)
    wrong = np.asarray(wrong_counts, dtype=float).reshape(-1)
    if correct.shape != wrong.shape:
        raise ValueError("correct_counts and wrong_counts must have the same length")
    if np.any(correct < 0) or np.any(wrong < 0):
        raise ValueError("counts must be non-negative")
    n = correct.shape[0]
    X = np.zeros((n, N_BASE_FEATURES + n_concepts))
    X[:, 0] = np.sqrt(1.0 + correct)
    X[:, 1] = np.sqrt(1.0 + wrong)
    X[:, 2] = 1.0
    if n_concepts:
        if concept_index is None:
            raise ValueError("concept_index is required when n_concepts > 0")
        concept = np.asarray(concept_index, dtype=int).reshape(-1)
        if concept.shape[0] != n or np.any(concept >= n_concepts):
            raise ValueError("concept_index must have one entry < n_concepts per row")
        rows = np.flatnonzero(concept >= 0)
        X[rows, N_BASE_FEATURES + concept[rows]] = 1.0
    return X


def _indicator_rows(indicator_index, n: int, n_indicators: int):
    if indicator_index is None:
        return None
    index = np.asarray(indicator_index, dtype=int).reshape(-1)
    if index.shape[0] != n:
        raise ValueError("indicator_index must have one entry per row")
    if n_indicators and np.any(index >= n_indicators):
        raise ValueError("indicator_index must be < n_indicators (negative: no indicator)")
    return index


def hlr_log2_half_life(X: np.ndarray, theta: np.ndarray, indicator_index=None) -> np.ndarray:
    """log₂ ĥ = x·θ (+ the row's indicator weight), unclipped."""
    X = np.asarray(X, dtype=float)
    theta = np.asarray(theta, dtype=float)
    d = X.shape[1]
    z = X @ theta[:d]
    if indicator_index is not None:
        index = _indicator_rows(indicator_index, X.shape[0], theta.shape[0] - d)
        known = index >= 0
        z = z.copy()
        z[known] += theta[d + index[known]]
    return z


def _clipped_log2_half_life(X: np.ndarray, theta: np.ndarray, indicator_index=None):
    return np.clip(
        hlr_log2_half_life(X, theta, indicator_index),
        np.log2(MIN_HALF_LIFE_DAYS),
        np.log2(MAX_HALF_LIFE_DAYS),
    )


def hlr_half_life(X: np.ndarray, theta: np.ndarray, indicator_index=None) -> np.ndarray:
    """ĥ = 2^(x·θ) in days, clipped to [15 minutes, 274 days].

    ``theta`` may be longer than X's columns: the extra weights belong to indicators, added
    for rows with an ``indicator_index`` ≥ 0 (none without it, which is how a model with
    indicators predicts for an item it never saw)."""
    # clip the exponent (no overflow) and the result (exp2 ∘ log2 may round past the bound)
    return np.clip(
        np.exp2(_clipped_log2_half_life(X, theta, indicator_index)),
        MIN_HALF_LIFE_DAYS,
        MAX_HALF_LIFE_DAYS,
    )


def hlr_recall(delta_days, half_life_days) -> np.ndarray:
    """p = 2^(−Δ/h): 0.5 after one half-life, 0.25 after two."""
    delta = np.maximum(np.asarray(delta_days, dtype=float), 0.0)
    return np.exp2(-delta / np.asarray(half_life_days, dtype=float))


def hlr_interval_days(half_life_days, target_recall: float = 0.9) -> np.ndarray:
    """Time until predicted recall falls to ``target_recall``: Δ = −h·log₂(target)."""
    if not 0.0 < target_recall < 1.0:
        raise ValueError("target_recall must be in (0, 1)")
    return -np.asarray(half_life_days, dtype=float) * np.log2(target_recall)


def hlr_target_half_life(delta_days, recalled) -> np.ndarray:
    """The half-life an observation implies: h = −Δ / log₂(p), p clipped, h clipped."""
    p = np.clip(np.asarray(recalled, dtype=float), MIN_P, MAX_P)
    delta = np.maximum(np.asarray(delta_days, dtype=float), 0.0)
    return np.clip(-delta / np.log2(p), MIN_HALF_LIFE_DAYS, MAX_HALF_LIFE_DAYS)


def _l2_mask(n_dense: int, n_theta: int) -> np.ndarray:
    mask = np.ones(n_theta)
    if n_dense > BIAS_COLUMN:
        mask[BIAS_COLUMN] = 0.0  # the bias is not shrunk
    return mask


def _recall_term(p, p_hat, recall_loss: str) -> np.ndarray:
    if recall_loss == "log":
        return -(p * np.log(p_hat) + (1.0 - p) * np.log(1.0 - p_hat))
    return (p - p_hat) ** 2


def hlr_loss(
    X: np.ndarray,
    delta_days: np.ndarray,
    recalled: np.ndarray,
    theta: np.ndarray,
    alpha: float = 0.0,
    l2: float = 0.0,
    *,
    indicator_index=None,
    recall_loss: str = "log",
) -> float:
    """mean[L(p, p̂) + α(h − ĥ)²] + λ‖θ without the bias‖² (see the module docstring)."""
    if recall_loss not in RECALL_LOSSES:
        raise ValueError(f"recall_loss must be one of {RECALL_LOSSES}")
    X = np.asarray(X, dtype=float)
    theta = np.asarray(theta, dtype=float)
    p = np.clip(np.asarray(recalled, dtype=float), MIN_P, MAX_P)
    h = hlr_target_half_life(delta_days, recalled)
    h_hat = hlr_half_life(X, theta, indicator_index)
    p_hat = np.clip(hlr_recall(delta_days, h_hat), MIN_P, MAX_P)
    penalty = l2 * float(np.sum(_l2_mask(X.shape[1], theta.shape[0]) * theta**2))
    return float(np.mean(_recall_term(p, p_hat, recall_loss) + alpha * (h - h_hat) ** 2)) + penalty


def _gradient(X, delta, p, h, theta, alpha, l2, indicator_index=None, recall_loss="log"):
    d = X.shape[1]
    h_hat = hlr_half_life(X, theta, indicator_index)
    p_hat = np.clip(np.exp2(-delta / h_hat), MIN_P, MAX_P)
    # d p̂/d log₂ĥ = p̂·ln²2·(Δ/ĥ) and d ĥ/d log₂ĥ = ĥ·ln2 (Settles & Meeder, eq. 7–8).
    dp_dz = p_hat * LN2**2 * (delta / h_hat)
    if recall_loss == "log":
        dl_dz = (p_hat - p) / (p_hat * (1.0 - p_hat)) * dp_dz
    else:
        dl_dz = 2.0 * (p_hat - p) * dp_dz
    dl_dz = (dl_dz + 2.0 * alpha * (h_hat - h) * LN2 * h_hat) / X.shape[0]
    grad = np.zeros_like(theta)
    grad[:d] = X.T @ dl_dz
    if indicator_index is not None and theta.shape[0] > d:
        known = indicator_index >= 0
        grad[d:] = np.bincount(
            indicator_index[known], weights=dl_dz[known], minlength=theta.shape[0] - d
        )
    return grad + 2.0 * l2 * _l2_mask(d, theta.shape[0]) * theta


def hlr_train(
    X,
    delta_days,
    recalled,
    alpha: float = 0.0,
    l2: float = 0.0,
    lr: float = 0.1,
    epochs: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    theta0=None,
    *,
    indicator_index=None,
    n_indicators: int = 0,
    recall_loss: str = "log",
) -> HLRModel:
    """Fit θ by Adam on the loss above (full batch unless ``batch_size`` is given).

    ``recalled`` is 0/1 or the observed fraction correct; ``theta0`` warm-starts the fit.
    ``indicator_index`` (with ``n_indicators``) adds one weight per indicator after X's
    columns. ``loss_history`` holds the full training loss after each epoch.
    """
    if recall_loss not in RECALL_LOSSES:
        raise ValueError(f"recall_loss must be one of {RECALL_LOSSES}")
    X = np.asarray(X, dtype=float)
    delta = np.maximum(np.asarray(delta_days, dtype=float).reshape(-1), 0.0)
    p = np.clip(np.asarray(recalled, dtype=float).reshape(-1), MIN_P, MAX_P)
    if X.ndim != 2 or X.shape[0] != delta.shape[0] or X.shape[0] != p.shape[0]:
        raise ValueError("X must be (n, d) with one delta and one outcome per row")
    index = _indicator_rows(indicator_index, X.shape[0], n_indicators)
    if index is None:
        n_indicators = 0
    h = hlr_target_half_life(delta, p)
    n, d = X.shape
    size = d + n_indicators
    rng = np.random.default_rng(seed)
    theta = (
        np.asarray(theta0, dtype=float).copy()
        if theta0 is not None
        else np.r_[rng.normal(0.0, 0.01, size=d), np.zeros(n_indicators)]
    )
    if theta.shape[0] != size:
        raise ValueError(f"theta0 needs {size} weights")
    if n == 0:
        return HLRModel(theta=theta, loss_history=[], n_indicators=n_indicators)
    m, v = np.zeros(size), np.zeros(size)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    history = []
    batch = n if not batch_size or batch_size >= n else int(batch_size)
    for _ in range(epochs):
        order = rng.permutation(n) if batch < n else None
        for start in range(0, n, batch):
            rows = order[start : start + batch] if order is not None else slice(None)
            grad = _gradient(
                X[rows],
                delta[rows],
                p[rows],
                h[rows],
                theta,
                alpha,
                l2,
                index[rows] if index is not None else None,
                recall_loss,
            )
            step += 1
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(
            hlr_loss(X, delta, p, theta, alpha, l2, indicator_index=index, recall_loss=recall_loss)
        )
    return HLRModel(theta=theta, loss_history=history, n_indicators=n_indicators)


def hlr_cold_start_interval_days(accuracy: float) -> int:
    """The product's seed rule, used only while no trained HLR model exists:
    accuracy ≥ 0.85 → 7 days, ≥ 0.60 → 3 days, otherwise 1 day."""
    if accuracy >= 0.85:
        return 7
    if accuracy >= 0.60:
        return 3
    return 1


HLR_ALPHAS = (0.0, 1e-4, 1e-3)
HLR_L2S = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1)


@dataclass
class HLRSelection:
    """The model refitted on all rows with the settings that validated best."""

    model: HLRModel
    alpha: float
    l2: float
    indicators: bool
    validation_log_loss: float
    n_fit: int
    n_validation: int


def _mean_log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, MIN_P, MAX_P)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def hlr_select(
    X,
    delta_days,
    recalled,
    *,
    indicator_index=None,
    n_indicators: int = 0,
    validation_share: float = 0.2,
    alphas=HLR_ALPHAS,
    l2s=HLR_L2S,
    epochs: int = 1000,
    seed: int = 0,
) -> HLRSelection:
    """Choose α, λ and whether to use the indicators on a time split, then refit on all rows.

    Precondition: rows are in time order. The last ``validation_share`` of them validates
    fits on the earlier ones (log loss of the predicted recall); the best setting is refitted
    on every row. Indicators are tried only when ``indicator_index`` is given.
    """
    X = np.asarray(X, dtype=float)
    delta = np.asarray(delta_days, dtype=float).reshape(-1)
    y = np.asarray(recalled, dtype=float).reshape(-1)
    n = X.shape[0]
    if n < 10:
        raise ValueError(f"Only {n} reviews to fit half-life regression on; need at least 10.")
    cut = min(max(round(n * (1.0 - validation_share)), 1), n - 1)
    index = _indicator_rows(indicator_index, n, n_indicators)
    options = [False, True] if index is not None and n_indicators else [False]

    def validate(alpha: float, l2: float, use_indicators: bool) -> float:
        model = hlr_train(
            X[:cut],
            delta[:cut],
            y[:cut],
            alpha=alpha,
            l2=l2,
            epochs=epochs,
            seed=seed,
            indicator_index=index[:cut] if use_indicators else None,
            n_indicators=n_indicators if use_indicators else 0,
        )
        p = model.predict_recall(X[cut:], delta[cut:], index[cut:] if use_indicators else None)
        return _mean_log_loss(y[cut:], p)

    # λ and the indicators first (with α = 0), then α at the chosen λ: the half-life term
    # barely interacts with λ, and this needs a third of the fits of the full grid.
    candidates = [(validate(0.0, l2, ind), 0.0, l2, ind) for ind in options for l2 in l2s]
    best = min(candidates, key=lambda c: c[0])
    for alpha in alphas:
        if alpha > 0.0:
            score = validate(alpha, best[2], best[3])
            if score < best[0] - 1e-9:
                best = (score, alpha, best[2], best[3])
    score, alpha, l2, use_indicators = best
    model = hlr_train(
        X,
        delta,
        y,
        alpha=alpha,
        l2=l2,
        epochs=epochs,
        seed=seed,
        indicator_index=index if use_indicators else None,
        n_indicators=n_indicators if use_indicators else 0,
    )
    return HLRSelection(
        model=model,
        alpha=alpha,
        l2=l2,
        indicators=use_indicators,
        validation_log_loss=score,
        n_fit=cut,
        n_validation=n - cut,
    )
