"""The command line: simulate, export, verify, replay and sweep."""

from __future__ import annotations

import json

import pytest

from miniature_office.cli import CliError, main, parse_seeds, parse_sets


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_prints_the_summary(capsys) -> None:
    code, out, _ = run(capsys, "simulate", "--seed", "3", "--ticks", "200")
    assert code == 0
    for label in (
        "directives deployed",
        "throughput",
        "median lead time",
        "bottleneck role",
        "escaped defects",
        "audit head hash",
    ):
        assert label in out


def test_simulate_json_and_csv_export_per_tick_flow(capsys, tmp_path) -> None:
    csv_path = tmp_path / "flow.csv"
    code, out, _ = run(capsys, "simulate", "--ticks", "50", "--json", "--csv", str(csv_path))
    data = json.loads(out)
    assert code == 0 and len(data["flow"]) == 50 and data["summary"]["ticks"] == 50
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 51 and "queue.verifier" in lines[0] and "states.deployed" in lines[0]


def test_exported_chain_verifies_and_tampering_is_named(capsys, tmp_path) -> None:
    audit = tmp_path / "audit.jsonl"
    run(capsys, "simulate", "--ticks", "60", "--audit-out", str(audit))
    code, out, _ = run(capsys, "verify-audit", str(audit))
    assert code == 0 and out.startswith("valid:")
    rows = audit.read_text().splitlines()
    event = json.loads(rows[7])
    event["actor"] = "mallory"
    rows[7] = json.dumps(event)
    audit.write_text("\n".join(rows) + "\n")
    code, out, _ = run(capsys, "verify-audit", str(audit))
    assert code == 1 and "BROKEN at event 8" in out


def test_replay_reproduces_the_head_hash_at_a_tick(capsys, tmp_path) -> None:
    commands_in = tmp_path / "in.jsonl"
    commands_in.write_text(
        json.dumps(
            {
                "tick": 10,
                "kind": "create_directive",
                "payload": {"title": "Scripted", "floor": "python"},
            }
        )
        + "\n"
    )
    log = tmp_path / "commands.jsonl"
    code, out, _ = run(
        capsys,
        "simulate",
        "--seed",
        "5",
        "--ticks",
        "120",
        "--json",
        "--commands",
        str(commands_in),
        "--commands-out",
        str(log),
    )
    heads = {row["tick"]: row["audit_head"] for row in json.loads(out)["flow"]}
    assert json.loads(log.read_text().splitlines()[0])["kind"] == "create_directive"
    for tick in (5, 11, 120):
        code, out, _ = run(
            capsys,
            "replay",
            "--seed",
            "5",
            "--commands",
            str(log),
            "--until-tick",
            str(tick),
            "--json",
        )
        assert code == 0 and json.loads(out)["audit_head"] == heads[tick]


def test_sweep_reports_percentiles_per_parameter_value(capsys) -> None:
    code, out, _ = run(
        capsys,
        "sweep",
        "--seeds",
        "1..3",
        "--set",
        "roles.verifier=1,2",
        "--ticks",
        "120",
        "--workers",
        "2",
        "--json",
    )
    rows = json.loads(out)
    assert code == 0 and [r["set.roles.verifier"] for r in rows] == [1, 2]
    for row in rows:
        assert row["runs"] == 3
        assert {"lead_time_median", "lead_time_p85", "lead_time_p95", "throughput_median"} <= set(
            row
        )


def test_bad_input_is_a_clear_error_with_exit_code_2(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("floors: []\n")
    code, _, err = run(capsys, "simulate", "--scenario", str(bad), "--ticks", "5")
    assert code == 2 and "floors" in err
    code, _, err = run(capsys, "sweep", "--set", "roles.wizard=1", "--ticks", "5")
    assert code == 2 and "wizard" in err
    code, _, err = run(capsys, "simulate", "--scenario", str(tmp_path / "missing.yaml"))
    assert code == 2 and "not found" in err


def test_seed_and_set_parsing() -> None:
    assert parse_seeds("1..4") == [1, 2, 3, 4] and parse_seeds("3,5") == [3, 5]
    assert parse_sets(["roles.verifier=1,2", "settings.votes_per_tick=3"]) == {
        "roles.verifier": [1, 2],
        "settings.votes_per_tick": [3],
    }
    with pytest.raises(CliError, match="--seeds"):
        parse_seeds("a..b")
