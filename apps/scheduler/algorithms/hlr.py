"""Half-life regression (Settles & Meeder, "A Trainable Spaced Repetition Model for Language
Learning", ACL 2016).

The memory of an item decays exponentially, p = 2^(−Δ/h), with a half-life that is
log-linear in the learner's history of that item, ĥ = 2^(θ·x). The features follow the paper's
reference implementation (github.com/duolingo/halflife-regression): √(1 + correct answers),
√(1 + wrong answers), a bias, and optional one-hot concept (lexeme) indicators.

Training minimises the paper's loss, averaged over the training reviews,

    ℓ = (p − p̂)² + α·(h − ĥ)² + λ·‖θ‖²₂,   h = −Δ / log₂(p),

where p is the observed recall (0/1, or the fraction correct in a session) clipped to
[0.0001, 0.9999] and both h and ĥ are clipped to [15 minutes, 274 days], as in the paper.
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


@dataclass
class HLRModel:
    theta: np.ndarray
    loss_history: list[float] = field(default_factory=list)

    def half_life(self, X: np.ndarray) -> np.ndarray:
        return hlr_half_life(X, self.theta)

    def predict_recall(self, X: np.ndarray, delta_days: np.ndarray) -> np.ndarray:
        return hlr_recall(delta_days, self.half_life(X))


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


def _clipped_log2_half_life(X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.clip(
        np.asarray(X, dtype=float) @ np.asarray(theta, dtype=float),
        np.log2(MIN_HALF_LIFE_DAYS),
        np.log2(MAX_HALF_LIFE_DAYS),
    )


def hlr_half_life(X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """ĥ = 2^(X·θ) in days, clipped to [15 minutes, 274 days]."""
    # clip the exponent (no overflow) and the result (exp2 ∘ log2 may round past the bound)
    return np.clip(
        np.exp2(_clipped_log2_half_life(X, theta)), MIN_HALF_LIFE_DAYS, MAX_HALF_LIFE_DAYS
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


def hlr_loss(
    X: np.ndarray,
    delta_days: np.ndarray,
    recalled: np.ndarray,
    theta: np.ndarray,
    alpha: float = 0.01,
    l2: float = 0.1,
) -> float:
    """The paper's loss averaged over rows: mean[(p − p̂)² + α(h − ĥ)²] + λ‖θ‖²."""
    p = np.clip(np.asarray(recalled, dtype=float), MIN_P, MAX_P)
    h = hlr_target_half_life(delta_days, recalled)
    h_hat = hlr_half_life(X, theta)
    p_hat = np.clip(hlr_recall(delta_days, h_hat), MIN_P, MAX_P)
    return float(np.mean((p - p_hat) ** 2 + alpha * (h - h_hat) ** 2) + l2 * np.dot(theta, theta))


def _gradient(X, delta, p, h, theta, alpha, l2):
    h_hat = hlr_half_life(X, theta)
    p_hat = np.clip(np.exp2(-delta / h_hat), MIN_P, MAX_P)
    # d p̂/dθ = p̂·ln²2·(Δ/ĥ)·x and d ĥ/dθ = ĥ·ln2·x (Settles & Meeder, eq. 7–8).
    dl_dp = 2.0 * (p_hat - p) * LN2**2 * p_hat * (delta / h_hat)
    dl_dh = 2.0 * alpha * (h_hat - h) * LN2 * h_hat
    return X.T @ (dl_dp + dl_dh) / X.shape[0] + 2.0 * l2 * theta


def hlr_train(
    X,
    delta_days,
    recalled,
    alpha: float = 0.01,
    l2: float = 0.1,
    lr: float = 0.05,
    epochs: int = 300,
    seed: int = 0,
    batch_size: int | None = None,
    theta0=None,
) -> HLRModel:
    """Fit θ by Adam on the paper's loss (full batch unless ``batch_size`` is given).

    ``recalled`` is 0/1 or the observed fraction correct; ``theta0`` warm-starts the fit
    (the replay evaluation retrains from the previous θ). ``loss_history`` holds the full
    training loss after each epoch.
    """
    X = np.asarray(X, dtype=float)
    delta = np.maximum(np.asarray(delta_days, dtype=float).reshape(-1), 0.0)
    p = np.clip(np.asarray(recalled, dtype=float).reshape(-1), MIN_P, MAX_P)
    if X.ndim != 2 or X.shape[0] != delta.shape[0] or X.shape[0] != p.shape[0]:
        raise ValueError("X must be (n, d) with one delta and one outcome per row")
    h = hlr_target_half_life(delta, p)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    theta = (
        np.asarray(theta0, dtype=float).copy()
        if theta0 is not None
        else rng.normal(0.0, 0.01, size=d)
    )
    if n == 0:
        return HLRModel(theta=theta, loss_history=[])
    m, v = np.zeros(d), np.zeros(d)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    history = []
    batch = n if not batch_size or batch_size >= n else int(batch_size)
    for _ in range(epochs):
        order = rng.permutation(n) if batch < n else None
        for start in range(0, n, batch):
            rows = order[start : start + batch] if order is not None else slice(None)
            grad = _gradient(X[rows], delta[rows], p[rows], h[rows], theta, alpha, l2)
            step += 1
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(hlr_loss(X, delta, p, theta, alpha, l2))
    return HLRModel(theta=theta, loss_history=history)


def hlr_cold_start_interval_days(accuracy: float) -> int:
    """The product's seed rule, used only while no trained HLR model exists:
    accuracy ≥ 0.85 → 7 days, ≥ 0.60 → 3 days, otherwise 1 day."""
    if accuracy >= 0.85:
        return 7
    if accuracy >= 0.60:
        return 3
    return 1
