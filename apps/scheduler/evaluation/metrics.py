"""Metrics for recall predictions p against outcomes y (pure numpy).

log loss    mean −[y ln p + (1 − y) ln(1 − p)], p clipped to [10⁻⁶, 1 − 10⁻⁶].
RMSE (bins) predictions are binned into ``n_bins`` equal-width bins of predicted
            probability; per bin the mean prediction is compared with the mean outcome
            and the squared gaps are averaged weighted by bin size:
            √(Σ_b n_b (p̄_b − ȳ_b)² / N). (srs-benchmark's RMSE(bins) bins reviews by
            interval, review count and lapses instead; both measure calibration.)
AUC         the Mann–Whitney rank statistic; tied predictions get their average rank.
MAE         mean |p − y|.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

EPS = 1e-6


def log_loss(y, p) -> float:
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def rmse_bins(y, p, n_bins: int = 20) -> float:
    """√(Σ_b n_b (mean prediction_b − mean outcome_b)² / N) over equal-width prediction bins."""
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if y.size == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    used = counts > 0
    mean_p = np.bincount(bins, weights=p, minlength=n_bins)[used] / counts[used]
    mean_y = np.bincount(bins, weights=y, minlength=n_bins)[used] / counts[used]
    return float(np.sqrt(np.sum(counts[used] * (mean_p - mean_y) ** 2) / y.size))


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


def mae(y, p) -> float:
    return float(np.mean(np.abs(np.asarray(p, dtype=float) - np.asarray(y, dtype=float))))


@dataclass(frozen=True)
class ModelScore:
    model: str
    n: int
    log_loss: float
    rmse_bins: float
    auc: float
    mae: float

    def as_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def evaluate_predictions(model: str, y, p, n_bins: int = 20) -> ModelScore:
    return ModelScore(
        model=model,
        n=int(np.asarray(y).size),
        log_loss=log_loss(y, p),
        rmse_bins=rmse_bins(y, p, n_bins),
        auc=auc(y, p),
        mae=mae(y, p),
    )


def format_table(scores: list[ModelScore]) -> str:
    """A Markdown table, one row per model (lower is better except AUC)."""
    lines = [
        "| Model | Reviews | Log loss ↓ | RMSE (bins) ↓ | AUC ↑ | MAE ↓ |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.model} | {s.n} | {s.log_loss:.4f} | {s.rmse_bins:.4f} | {s.auc:.4f} "
            f"| {s.mae:.4f} |"
        )
    return "\n".join(lines)
