"""Metrics for recall predictions p against outcomes y, as srs-benchmark reports them (numpy).

log loss     mean −[y ln p + (1 − y) ln(1 − p)], p clipped to [10⁻⁶, 1 − 10⁻⁶].
RMSE(bins)   srs-benchmark's calibration metric (``utils.rmse_matrix`` in
             github.com/open-spaced-repetition/srs-benchmark; "The Metric" on the fsrs4anki
             wiki). Reviews are grouped by three features of the card, each binned on a
             log scale:
               elapsed days Δ     → round(2.48 · 3.62^⌊ln max(Δ, 10⁻⁶) / ln 3.62⌋, 2)
               review number i    → round(1.99 · 1.89^⌊ln i / ln 1.89⌋)        (i ≥ 1)
               lapses so far l    → round(1.65 · 1.73^⌊ln l / ln 1.73⌋), 0 for l = 0
             Per bin b with n_b reviews the mean prediction p̄_b is compared with the mean
             outcome ȳ_b, and RMSE(bins) = √(Σ_b n_b (p̄_b − ȳ_b)² / Σ_b n_b).
             ``i`` counts the card's reviews including this one (2 for the first repeat);
             lapses are the earlier Again answers, not counting the card's first review.
AUC          the Mann–Whitney rank statistic; tied predictions get their average rank.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

EPS = 1e-6


def log_loss(y, p) -> float:
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def _log_bin(x: np.ndarray, scale: float, base: float, decimals: int) -> np.ndarray:
    return np.round(scale * np.power(base, np.floor(np.log(x) / np.log(base))), decimals)


def rmse_bins_keys(elapsed_days, review_number, lapses) -> np.ndarray:
    """The (Δ, i, lapses) bin of every review, as srs-benchmark bins them; shape (n, 3)."""
    elapsed = np.maximum(np.asarray(elapsed_days, dtype=float), 1e-6)
    number = np.asarray(review_number, dtype=float)
    lapse = np.asarray(lapses, dtype=float)
    if np.any(number < 1):
        raise ValueError("review_number counts from 1")
    lapse_bin = np.zeros_like(lapse)
    some = lapse > 0
    lapse_bin[some] = _log_bin(lapse[some], 1.65, 1.73, 0)
    return np.column_stack(
        [_log_bin(elapsed, 2.48, 3.62, 2), _log_bin(number, 1.99, 1.89, 0), lapse_bin]
    )


def rmse_bins(y, p, elapsed_days, review_number, lapses) -> float:
    """srs-benchmark's RMSE(bins): √(Σ_b n_b (p̄_b − ȳ_b)² / N) over (Δ, i, lapses) bins."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.size == 0:
        return float("nan")
    _, group = np.unique(
        rmse_bins_keys(elapsed_days, review_number, lapses), axis=0, return_inverse=True
    )
    group = group.reshape(-1)
    counts = np.bincount(group)
    mean_p = np.bincount(group, weights=p) / counts
    mean_y = np.bincount(group, weights=y) / counts
    return float(np.sqrt(np.sum(counts * (mean_p - mean_y) ** 2) / counts.sum()))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    average = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def auc(y, p) -> float:
    """ROC AUC as the Mann–Whitney U statistic; ties count one half. NaN without both classes."""
    y = np.asarray(y, dtype=float) > 0.5
    p = np.asarray(p, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@dataclass(frozen=True)
class ModelScore:
    model: str
    n: int
    log_loss: float
    rmse_bins: float
    auc: float

    def as_dict(self) -> dict:
        """``{"log_loss", "rmse_bins", "auc"}`` (NaN as None), the JSON's per-model entry."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
            if k in ("log_loss", "rmse_bins", "auc")
        }


def evaluate_predictions(model: str, y, p, elapsed_days, review_number, lapses) -> ModelScore:
    return ModelScore(
        model=model,
        n=int(np.asarray(y).size),
        log_loss=log_loss(y, p),
        rmse_bins=rmse_bins(y, p, elapsed_days, review_number, lapses),
        auc=auc(y, p),
    )


def _cell(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.4f}"


def format_table(scores: list[ModelScore]) -> str:
    """A Markdown table, one row per model (lower is better except AUC)."""
    lines = [
        "| Model | Reviews | Log loss ↓ | RMSE(bins) ↓ | AUC ↑ |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.model} | {s.n} | {_cell(s.log_loss)} | {_cell(s.rmse_bins)} | {_cell(s.auc)} |"
        )
    return "\n".join(lines)
