"""``manage.py irt_calibrate``: CSV in, item table or JSON out; clear errors for bad input."""

import io
import itertools
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

# LSAT-6 (see test_irt.py): 32 patterns of 5 items with their frequencies, N = 1000.
LSAT6_COUNTS = [3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15]
LSAT6_COUNTS += [10, 29, 14, 81, 3, 28, 15, 80, 16, 56, 21, 173, 11, 61, 28, 298]


def _lsat6_csv(tmp_path, *, with_counts: bool = True):
    patterns = list(itertools.product([0, 1], repeat=5))
    if with_counts:
        lines = ["Q1,Q2,Q3,Q4,Q5,count"]
        lines += [
            ",".join(map(str, p)) + f",{n}" for p, n in zip(patterns, LSAT6_COUNTS, strict=True)
        ]
    else:
        lines = ["Q1,Q2,Q3,Q4,Q5"]
        for p, n in zip(patterns, LSAT6_COUNTS, strict=True):
            lines += [",".join(map(str, p))] * n
    path = tmp_path / "lsat6.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args) -> str:
    out = io.StringIO()
    call_command("irt_calibrate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _write(tmp_path, text: str):
    path = tmp_path / "responses.csv"
    path.write_text(text)
    return path


def test_json_output_for_2pl(tmp_path):
    payload = json.loads(_run("--csv", str(_lsat6_csv(tmp_path)), "--model", "2pl", "--json"))
    assert payload["model"] == "2pl"
    assert payload["converged"] is True and payload["iterations"] > 0
    assert payload["log_likelihood"] == pytest.approx(-2466.653, abs=1e-3)  # ltm, mirt
    assert [item["item"] for item in payload["items"]] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    first = payload["items"][0]
    assert set(first) == {"item", "n", "a", "se_a", "b", "se_b", "c", "se_c"}
    assert first["n"] == 1000
    assert first["a"] == pytest.approx(0.8254, abs=1.5e-3)
    assert first["b"] == pytest.approx(-3.3597, abs=4e-3)
    assert first["c"] == 0.0 and first["se_c"] is None  # NaN (fixed) → null


def test_json_output_for_rasch_has_null_slope_errors(tmp_path):
    payload = json.loads(_run("--csv", str(_lsat6_csv(tmp_path)), "--model", "rasch", "--json"))
    assert payload["log_likelihood"] == pytest.approx(-2473.054, abs=1e-3)  # ltm
    assert all(item["a"] == 1.0 and item["se_a"] is None for item in payload["items"])
    np.testing.assert_allclose(
        [item["b"] for item in payload["items"]],
        [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188],
        atol=1e-3,
    )


def test_rows_without_count_column_equal_pattern_counts(tmp_path):
    with_counts = json.loads(_run("--csv", str(_lsat6_csv(tmp_path)), "--model", "1pl", "--json"))
    rows_dir = tmp_path / "rows"
    rows_dir.mkdir()
    rows = json.loads(
        _run("--csv", str(_lsat6_csv(rows_dir, with_counts=False)), "--model", "1pl", "--json")
    )
    assert rows["log_likelihood"] == pytest.approx(with_counts["log_likelihood"], abs=1e-6)
    assert rows["log_likelihood"] == pytest.approx(-2466.938, abs=1e-3)


def test_table_output(tmp_path):
    text = _run("--csv", str(_lsat6_csv(tmp_path)), "--model", "3pl")
    lines = text.splitlines()
    assert "model: 3pl" in lines[0] and "persons: 1000" in lines[0] and "Beta(5, 17)" in lines[0]
    assert "not administered: 0%" in lines[0]
    assert lines[1].split() == ["item", "n", "a", "se_a", "b", "se_b", "c", "se_c"]
    assert [line.split()[0] for line in lines[2:7]] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert all(len(line.split()) == 8 for line in lines[2:7])
    assert lines[7].startswith("marginal log-likelihood: -24")
    assert "converged" in lines[8]


def test_table_shows_fixed_errors_as_dashes(tmp_path):
    text = _run("--csv", str(_lsat6_csv(tmp_path)), "--model", "rasch")
    q1 = next(line for line in text.splitlines() if line.startswith("Q1"))
    cells = q1.split()
    assert cells[1] == "1000" and cells[2] == "1.0000" and cells[3] == "-" and cells[7] == "-"


def test_bom_and_blank_trailing_lines_are_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffi1,i2,i3\n1,0,1\n0,0,1\n1,1,0\n0,1,1\n\n", encoding="utf-8")
    payload = json.loads(_run("--csv", str(path), "--model", "rasch", "--json"))
    assert [item["item"] for item in payload["items"]] == ["i1", "i2", "i3"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("i1,i2\n", "no data rows"),
        ("i1,count\n1,3\n0,2\n", "at least 2 item columns, found 1"),
        ("i1,i2,i3\n1,0,1\n0,1,yes\n", "line 3, column 'i3': expected 0, 1 or blank"),
        ("i1,i2,i3\n1,0,1\n0,2,1\n", "line 3, column 'i2': expected 0, 1 or blank .*'2'"),
        ("i1,i2,i3\n1,,1\n0,,0\n1,1,0\n", "all correct or all wrong .*: i2$"),
        ("i1,i2,i3\n1,,\n0,,\n", "need at least 2 items with 1 or more answers"),
        ("i1,i2,i3\n1,0,1\n0,1\n", "line 3: expected 3 fields, got 2"),
        ("i1,i2,count\n1,0,2\n0,1,-1\n", "line 3, column 'count': expected a non-negative"),
        ("i1,i2,count\n1,0,2\n0,1,1.5\n", "line 3, column 'count'"),
        ("i1,i2,i1\n1,0,1\n", "duplicate column name"),
        ("i1,,i3\n1,0,1\n", "column 2 has no name"),
        ("i1,i2,count\n1,0,0\n0,1,0\n", "count 0"),
        ("i1,i2,i3\n1,0,1\n0,1,1\n", "all correct or all wrong cannot be calibrated: i3"),
    ],
)
def test_bad_csv_is_a_command_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(CommandError, match=message):
        _run("--csv", str(path), "--model", "2pl")


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="CSV file not found"):
        _run("--csv", str(tmp_path / "nope.csv"), "--model", "2pl")


def test_unknown_model_is_rejected(tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        _run("--csv", str(_lsat6_csv(tmp_path)), "--model", "4pl")


def _blanked_lsat6_csv(tmp_path, share: float = 0.4):
    """LSAT-6 as one row per person, with ``share`` of the cells blank (not administered)."""
    patterns = list(itertools.product([0, 1], repeat=5))
    rows = np.repeat(np.array(patterns), LSAT6_COUNTS, axis=0)
    rng = np.random.default_rng(0)
    answered = rng.random(rows.shape) >= share
    lines = ["Q1,Q2,Q3,Q4,Q5"]
    lines += [
        ",".join(str(v) if given else "" for v, given in zip(row, mask, strict=True))
        for row, mask in zip(rows, answered, strict=True)
    ]
    path = tmp_path / "lsat6_blanked.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, rows, answered


def test_blank_cells_are_not_administered(tmp_path):
    # given LSAT-6 with 40% of its cells blank
    path, rows, answered = _blanked_lsat6_csv(tmp_path)

    # when it is calibrated through the command
    payload = json.loads(_run("--csv", str(path), "--model", "2pl", "--json"))

    # then the blanks are skipped, exactly as calibrate's mask skips them
    from apps.scheduler.algorithms.irt import calibrate

    direct = calibrate(rows, None, "2pl", mask=answered)
    assert payload["converged"] is True
    assert [item["n"] for item in payload["items"]] == answered.sum(axis=0).tolist()
    np.testing.assert_allclose([item["b"] for item in payload["items"]], direct.b, rtol=1e-9)
    np.testing.assert_allclose([item["se_a"] for item in payload["items"]], direct.se_a, 1e-9)
    assert payload["log_likelihood"] == pytest.approx(direct.log_likelihood)
    text = _run("--csv", str(path), "--model", "2pl")
    assert "not administered: 40%" in text.splitlines()[0]


def test_items_under_the_minimum_are_reported_without_estimates(tmp_path):
    # given a CSV where Q5 was administered to few persons
    path, _, _ = _blanked_lsat6_csv(tmp_path, share=0.0)
    text = path.read_text().splitlines()
    few = [text[0]] + [
        line if n < 30 else line.rsplit(",", 1)[0] + "," for n, line in enumerate(text[1:])
    ]
    path.write_text("\n".join(few) + "\n")
    err = io.StringIO()
    out = io.StringIO()

    # when it is calibrated with --min-responses 50
    call_command("irt_calibrate", "--csv", str(path), "--model", "2pl", "--json",
                 "--min-responses", "50", stdout=out, stderr=err)  # fmt: skip

    # then Q5 is left out, with its answer count and no estimates, and the others calibrate
    items = {item["item"]: item for item in json.loads(out.getvalue())["items"]}
    assert items["Q5"]["n"] == 30 and items["Q5"]["a"] is None and items["Q5"]["se_b"] is None
    assert all(items[q]["a"] is not None and items[q]["n"] == 1000 for q in ("Q1", "Q2", "Q3"))
    assert "fewer than 50 answers, not calibrated: Q5" in err.getvalue()
