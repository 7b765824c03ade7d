"""The pass rule, in whole numbers so the boundary is exact: plain Python, no Django.

A test is passed when the share of right answers is at least the pass mark: 43 right of 50
is 86%, which passes a pass mark of 86 and fails one of 87. Unanswered items count as wrong.
"""


def score_percent(correct: int, total: int) -> float:
    return round(100 * correct / total, 2) if total else 0.0


def is_pass(correct: int, total: int, pass_mark_percent: int) -> bool:
    """``correct / total >= pass_mark_percent / 100``, compared without floating point."""
    return total > 0 and correct * 100 >= pass_mark_percent * total
