"""The evaluation protocol (srs-benchmark's) and its metrics, on small logs and the real one."""

import json
import math
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.scheduler.evaluation import replay
from apps.scheduler.evaluation.metrics import (
    ModelScore,
    auc,
    format_table,
    log_loss,
    rmse_bins,
    rmse_bins_keys,
)
from apps.scheduler.evaluation.replay import (
    CONSTANT,
    FSRS_DEFAULT,
    FSRS_FITTED,
    HLR,
    MODELS,
    SM2,
    evaluate_reviews,
    first_review_per_day,
    load_anki_log,
    repeat_reviews,
    running_mean_baseline,
    sm2_predictions,
    split_point,
)
from apps.scheduler.evaluation.simulation import simulate_reviews
from apps.scheduler.management.commands.scheduler_evaluate import default_csv

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------- metrics


def test_log_loss_of_a_coin_flip_is_ln_2():
    assert log_loss([1, 0, 1, 1], [0.5] * 4) == pytest.approx(math.log(2))
    assert log_loss([1, 0], [0.8, 0.1]) == pytest.approx(-(math.log(0.8) + math.log(0.9)) / 2)
    assert np.isfinite(log_loss([1, 0], [0.0, 1.0]))  # clipped, not infinite


def test_auc():
    assert auc([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]) == 1.0
    assert auc([1, 1, 0, 0], [0.1, 0.2, 0.7, 0.9]) == 0.0
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    # positives {0.4, 0.8} vs negatives {0.1, 0.4}: 1 + ½ + 1 + 1 of 4 pairs
    assert auc([0, 1, 0, 1], [0.1, 0.4, 0.4, 0.8]) == pytest.approx(0.875)
    assert math.isnan(auc([1, 1], [0.2, 0.3]))


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])),
        min_size=2,
        max_size=40,
    )
)
def test_property_auc_equals_the_pairwise_definition(pairs):
    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    pos, neg = p[y == 1], p[y == 0]
    if pos.size == 0 or neg.size == 0:
        assert math.isnan(auc(y, p))
        return
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert auc(y, p) == pytest.approx(wins / (pos.size * neg.size))


def test_rmse_bins_keys_are_srs_benchmarks_log_bins():
    # Δ: 2.48·3.62^⌊log₃.₆₂ Δ⌋ (2 decimals); i: 1.99·1.89^⌊log₁.₈₉ i⌋; lapses: 1.65·1.73^⌊…⌋
    keys = rmse_bins_keys([1, 5, 0.5, 0], [2, 3, 1, 7], [0, 1, 3, 0])
    np.testing.assert_allclose(
        keys,
        [
            [2.48, 4, 0],  # ⌊0⌋ = 0; i = 2 → ⌊1.09⌋ = 1 → 3.76 → 4
            [8.98, 4, 2],  # 5 days → ⌊1.25⌋ = 1 → 8.9776; 1 lapse → 1.65 → 2
            [0.69, 2, 5],  # half a day → ⌊−0.54⌋ = −1 → 0.685; 3 lapses → 1.65·1.73² → 5
            [0.0, 13, 0],  # 0 days counts as 10⁻⁶ (srs-benchmark's max(x, 1e-6)); 7 → 13.4 → 13
        ],
        atol=0.005,
    )


def test_rmse_bins_by_hand():
    # Reviews 1–2 share the bin (Δ 2.48, i 4, lapses 0): mean p 0.8 vs mean y 0.5, weight 2.
    # Review 3 is alone in (8.98, 4, 2): 0.6 vs 1, weight 1.
    # √((2·0.3² + 1·0.4²) / 3) = √(0.34 / 3)
    y, p = [1, 0, 1], [0.9, 0.7, 0.6]
    value = rmse_bins(y, p, elapsed_days=[1, 1, 5], review_number=[2, 2, 3], lapses=[0, 0, 1])
    assert value == pytest.approx(math.sqrt(0.34 / 3))
    # one bin for all three: |mean p − mean y| = |0.7333 − 0.6667|
    assert rmse_bins(y, p, [1, 1, 1], [2, 2, 2], [0, 0, 0]) == pytest.approx(0.2 / 3)
    assert rmse_bins([1, 1], [0.5, 0.7], [1, 1], [2, 2], [0, 0]) == pytest.approx(0.4)
    # errors of opposite sign cancel inside a bin (why srs-benchmark also reports log loss)
    assert rmse_bins([1, 0], [0.0, 1.0], [1, 1], [2, 2], [0, 0]) == 0.0
    assert rmse_bins([1, 0], [1.0, 0.0], [1, 20], [2, 2], [0, 0]) == 0.0  # two exact bins
    assert math.isnan(rmse_bins([], [], [], [], []))


def test_running_mean_and_format_table():
    np.testing.assert_allclose(running_mean_baseline([1, 0, 1]), [1 / 2, 2 / 3, 2 / 4])
    scores = [ModelScore("a", 10, 0.5, 0.1, 0.75), ModelScore("b", 10, 0.6, 0.2, math.nan)]
    table = format_table(scores).splitlines()
    assert table[0] == "| Model | Reviews | Log loss ↓ | RMSE(bins) ↓ | AUC ↑ |"
    assert table[2] == "| a | 10 | 0.5000 | 0.1000 | 0.7500 |"
    assert table[3] == "| b | 10 | 0.6000 | 0.2000 | — |"
    assert scores[1].as_dict() == {"log_loss": 0.6, "rmse_bins": 0.2, "auc": None}


# ---------------------------------------------------------------------------- the protocol


def _write_log(path, rows):
    lines = ["card_id,review_rating,review_time,review_duration"]
    lines += [f"{c},{r},{t.isoformat()},0" for c, r, t in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_anki_log_sorts_by_time_and_counts_calendar_days(tmp_path):
    path = _write_log(
        tmp_path / "log.csv",
        [(2, 3, T0 + timedelta(hours=1)), (1, 1, T0), (3, 4, T0 + timedelta(hours=20))],
    )
    log = load_anki_log(path)
    assert log.card_id.tolist() == [1, 2, 3]
    assert log.rating.tolist() == [1, 3, 4]
    # 08:00 and 09:00 UTC are 1 March; 04:00 on 2 March (the day starts at 4) is the next day
    assert (log.day - log.day[0]).tolist() == [0, 0, 1]
    # in Tokyo (UTC+9) 08:00 UTC is 17:00 and 04:00 UTC is 13:00 the next local day
    tokyo = load_anki_log(path, timezone="Asia/Tokyo")
    assert (tokyo.day - tokyo.day[0]).tolist() == [0, 0, 1]
    assert len(load_anki_log(path, limit=1)) == 1


def test_load_anki_log_rejects_bad_ratings(tmp_path):
    with pytest.raises(ValueError, match=r"1\.\.4"):
        load_anki_log(_write_log(tmp_path / "log.csv", [(1, 5, T0)]))


def test_same_day_reviews_are_dropped_and_days_are_calendar_days(tmp_path):
    day = datetime(2024, 3, 1, tzinfo=UTC)
    rows = [
        (1, 3, day + timedelta(hours=8)),
        (1, 1, day + timedelta(hours=8, minutes=10)),  # same day: dropped
        (1, 1, day + timedelta(hours=27)),  # 03:00 next morning, before the 04:00 day start
        (1, 3, day + timedelta(hours=29)),  # 05:00: the next day, 21 h after the first
        (1, 1, day + timedelta(hours=47)),  # 23:00 the same day: dropped
        (1, 3, day + timedelta(days=2, hours=7)),  # 07:00 the day after: 1 day
        (2, 1, day + timedelta(hours=9)),
        (2, 3, day + timedelta(days=4, hours=9)),
    ]
    log = load_anki_log(_write_log(tmp_path / "log.csv", rows))
    daily = first_review_per_day(log)
    assert len(daily) == 5
    reviews = repeat_reviews(daily)
    assert reviews.histories == [[(3, 0), (3, 1), (3, 1)], [(1, 0), (3, 4)]]
    assert reviews.elapsed_days.tolist() == [1, 1, 4]
    assert reviews.y.tolist() == [1.0, 1.0, 1.0]
    assert reviews.review_number.tolist() == [2, 3, 2]
    assert reviews.lapses.tolist() == [0, 0, 0]  # Again on a first review is not a lapse
    assert reviews.prior_wrong.tolist() == [0, 0, 1]
    # SM-2 over the kept history: interval 1 after one Good, 6 after two; p = 0.9^(Δ/I)
    np.testing.assert_allclose(sm2_predictions(reviews), [0.9, 0.9 ** (1 / 6), 0.9**4])
    with pytest.raises(ValueError, match="first review per day"):
        repeat_reviews(log)


def _synthetic_rows(cards=30, reviews=5):
    rows = []
    for card in range(cards):
        moment = T0 + timedelta(minutes=card)
        for k in range(reviews):
            rows.append((card, 1 if (card * 7 + k * 3) % 5 == 0 else 3, moment))
            moment += timedelta(days=1 + (card + k) % 4)
    return rows


def test_split_in_time_and_training_never_sees_test_reviews(tmp_path, monkeypatch):
    rows = _synthetic_rows()
    log = load_anki_log(_write_log(tmp_path / "log.csv", rows))
    reviews = repeat_reviews(first_review_per_day(log))
    n_train = split_point(len(reviews), 0.7)
    split_time = reviews.time[n_train]
    assert reviews.time[:n_train].max() <= split_time <= reviews.time[n_train:].min()

    seen = {}
    real_select, real_fit = replay.hlr_select, replay.fsrs_fit_parameters

    def select(X, delta, y, **kwargs):
        seen["hlr_rows"] = len(y)
        return real_select(X, delta, y, **kwargs)

    def fit(histories):
        seen["fsrs_repeats"] = sum(len(h) - 1 for h in histories)
        return real_fit(histories)

    monkeypatch.setattr(replay, "hlr_select", select)
    monkeypatch.setattr(replay, "fsrs_fit_parameters", fit)
    evaluation = evaluate_reviews(log, split=0.7)
    assert (evaluation.n_train, evaluation.n_test) == (n_train, len(reviews) - n_train)
    assert seen == {"hlr_rows": n_train, "fsrs_repeats": n_train}
    assert set(evaluation.scores) == set(MODELS)

    # Flip every outcome after the split: nothing fitted changes, and so neither does any
    # prediction of the first test review (it depends on the past only).
    flipped = [(c, (1 if r > 1 else 3) if t.timestamp() > split_time else r, t) for c, r, t in rows]
    again = evaluate_reviews(load_anki_log(_write_log(tmp_path / "flip.csv", flipped)), 0.7)
    assert again.fsrs_parameters == evaluation.fsrs_parameters
    assert again.hlr == evaluation.hlr
    for model in MODELS:
        assert again.predictions[model][0] == pytest.approx(evaluation.predictions[model][0])


def test_too_few_reviews_to_split(tmp_path):
    log = load_anki_log(_write_log(tmp_path / "log.csv", _synthetic_rows(cards=2, reviews=3)))
    with pytest.raises(ValueError, match="too few"):
        evaluate_reviews(log)
    with pytest.raises(ValueError, match="split"):
        split_point(10, 1.0)


# ------------------------------------------------------------------------- simulated learners


def test_simulated_reviews():
    sim = simulate_reviews(10, 4, seed=3, reviews_per_item=5)
    assert sim.X.shape == (200, 3) and sim.recalled.shape == (200,)
    assert set(np.unique(sim.recalled)) <= {0.0, 1.0}
    again = simulate_reviews(10, 4, seed=3, reviews_per_item=5)
    np.testing.assert_array_equal(sim.recalled, again.recalled)
    np.testing.assert_array_equal(sim.X[:40], np.ones((40, 3)))  # no history at first
    with pytest.raises(ValueError):
        simulate_reviews(10, 4, true_theta=[1, 2])


# -------------------------------------------------------------------------------- command


def test_default_csv_is_next_to_the_project():
    assert default_csv() == Path(settings.BASE_DIR) / "data" / "anki-review-log.csv"


def test_scheduler_evaluate_command_on_a_small_log(tmp_path):
    path = _write_log(tmp_path / "log.csv", _synthetic_rows())
    out = StringIO()
    call_command("scheduler_evaluate", "--csv", str(path), stdout=out)
    text = out.getvalue()
    assert "| Model | Reviews | Log loss ↓ | RMSE(bins) ↓ | AUC ↑ |" in text
    assert "| fsrs_default | 36 |" in text  # 120 repeats, the last 30% scored
    out = StringIO()
    call_command("scheduler_evaluate", "--csv", str(path), "--json", "--split", "0.5", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["protocol"] == "srs-benchmark"
    assert (payload["n_train"], payload["n_test"]) == (60, 60)
    assert list(payload["models"]) == list(MODELS)
    assert set(payload["models"][HLR]) == {"log_loss", "rmse_bins", "auc"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--csv", "missing.csv"], "not found"),
        (["--split", "1.5"], "between 0 and 1"),
        (["--day-start-hour", "24"], "0..23"),
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--course", "x"], "needs --by-course"),
    ],
)
def test_scheduler_evaluate_rejects_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("scheduler_evaluate", *args)


# --------------------------------------------------------------------------- the real log


@pytest.fixture(scope="module")
def real_log_json():
    out = StringIO()
    call_command("scheduler_evaluate", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_real_log_fitted_fsrs_beats_defaults_beats_constant_and_hlr_is_close(real_log_json):
    models = {name: m["log_loss"] for name, m in real_log_json["models"].items()}
    assert real_log_json["protocol"] == "srs-benchmark"
    assert real_log_json["n_train"] + real_log_json["n_test"] == 6276  # repeats, one per day
    assert models[FSRS_FITTED] < models[FSRS_DEFAULT] < models[CONSTANT]
    assert models[HLR] <= models[CONSTANT] + 0.03
    assert models[SM2] > models[FSRS_DEFAULT]
    for scores in real_log_json["models"].values():
        assert 0 < scores["rmse_bins"] < 0.2 and 0.4 < scores["auc"] < 0.7


def _py_fsrs_default_log_loss(path: Path, split: float = 0.7) -> float:
    """FSRS-6's default log loss on the later 30%, computed here with py-fsrs only: first
    review per card and UTC day (day start 04:00), reviews replayed at day boundaries, recall
    from ``Scheduler.get_card_retrievability`` (whole days)."""
    import csv

    from fsrs import Card, Rating, Scheduler

    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            moment = datetime.fromisoformat(row["review_time"])
            rows.append((moment, int(row["card_id"]), int(row["review_rating"])))
    rows.sort(key=lambda r: r[0])
    scheduler = Scheduler(enable_fuzzing=False)
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    cards, last_day, predictions = {}, {}, []
    for moment, card_id, rating in rows:
        day = (moment - timedelta(hours=4)).date()
        if last_day.get(card_id) == day:
            continue
        at = origin + timedelta(days=(day - datetime(2000, 1, 1).date()).days)
        card = cards.get(card_id) or Card(card_id=card_id, due=at)
        if card_id in cards:
            predictions.append((scheduler.get_card_retrievability(card, at), rating > 1))
        cards[card_id], _ = scheduler.review_card(card, Rating(rating), at)
        last_day[card_id] = day
    test = predictions[int(len(predictions) * split) :]
    return log_loss([y for _, y in test], [p for p, _ in test])


def test_real_log_fsrs_default_agrees_with_py_fsrs(real_log_json):
    independent = _py_fsrs_default_log_loss(default_csv())
    assert real_log_json["models"][FSRS_DEFAULT]["log_loss"] == pytest.approx(
        independent, abs=0.005
    )
