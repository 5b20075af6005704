"""``miniature-office history``: import, fit, backtest and what-if from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from miniature_office.cli import main

DATA = Path(__file__).parent / "data"
FLASK = str(DATA / "flask.csv")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_describes_as_text_and_json(capsys) -> None:
    code, out, _ = run(capsys, "history", "import", FLASK)
    assert code == 0 and out.startswith("643 items (643 done, 0 open")
    assert "arrival dispersion" in out and "seasonality" in out
    code, out, _ = run(capsys, "history", "import", FLASK, "--json")
    data = json.loads(out)
    assert code == 0 and data["items"] == 643 and len(data["weeks"]) == len(data["throughput"])


def test_bad_file_is_one_line_with_line_numbers(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,created,done\n1,2024-01-01,2024-01-03\n2,soon,2024-01-04\n")
    code, _, err = run(capsys, "history", "import", str(bad))
    assert code == 2 and "line 3: created: not a date: 'soon'" in err
    code, _, err = run(capsys, "history", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err


def test_fit_states_the_verdict(capsys) -> None:
    code, out, _ = run(capsys, "history", "fit", FLASK, "--staff", "manager=1,builder=2")
    assert code == 0 and "verdict: poor fit:" in out and "builder 2" in out


def test_backtest_prints_both_methods(capsys) -> None:
    code, out, _ = run(capsys, "history", "backtest", FLASK, "--cuts", "2", "--futures", "4")
    assert code == 0 and out.startswith("2 cut dates, 4 futures each")
    assert "office" in out and "resampling" in out


def test_whatif_previews_on_the_fitted_office(capsys) -> None:
    hire = '{"kind": "hire_agent", "payload": {"floor": "team", "role": "builder"}}'
    code, out, _ = run(
        capsys,
        "history",
        "whatif",
        FLASK,
        "--command",
        hire,
        "--futures",
        "3",
        "--horizon",
        "100",
        "--json",
    )
    report = json.loads(out)
    assert code == 0 and report["futures"] == 3 and report["commands"][0]["kind"] == "hire_agent"
    code, _, err = run(capsys, "history", "whatif", FLASK, "--command", "[1]")
    assert code == 2 and "--command" in err
