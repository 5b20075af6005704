"""The command line: simulate, export, verify, replay, sweep and forecast."""

from __future__ import annotations

import json

import pytest

from miniature_office.cli import CliError, main
from miniature_office.cli.common import parse_seeds, parse_sets


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
    # 0.1.0's columns first, in 0.1.0's order (the short names come from service/compat.py)
    assert lines[0].startswith(
        "tick,day,states.scheduled,states.in_progress,states.in_review,states.approval,"
        "states.merged,states.deployed,states.blocked,wip,throughput,directives_deployed,"
        "deployed_total,throughput_per_day,lead_time_median,lead_time_p85,cycle_time_median,"
        "blocked,queue.architect,"
    )
    assert data["flow"][-1]["throughput"] == data["flow"][-1]["deployed_tasks_per_tick"]


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


def test_sweep_compares_each_variant_with_the_baseline_seed_by_seed(capsys, tmp_path) -> None:
    rows_csv = tmp_path / "runs.csv"
    code, out, _ = run(
        capsys,
        "sweep",
        "--seeds",
        "1..3",
        "--set",
        "roles.verifier=1,2",
        "--ticks",
        "160",
        "--workers",
        "2",
        "--csv",
        str(rows_csv),
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["baseline"] == "roles.verifier=1"
    base, more = result["variants"]
    assert base["baseline"] and base["differences"] == []
    throughput = next(d for d in more["differences"] if d["metric"] == "throughput_per_day")
    assert throughput["n"] == 3 and throughput["method"] == "paired bootstrap"
    assert throughput["ci95_low"] <= throughput["mean_difference"] <= throughput["ci95_high"]
    lead = next(d for d in more["differences"] if d["metric"] == "lead_time_p85")
    assert lead["higher_is_better"] is False
    assert sum(base["bottleneck"].values()) == 3  # a distribution over the three seeds
    assert {"median", "p15", "p85"} <= set(base["metrics"]["throughput_per_day"])
    assert [(r["variant"], r["seed"]) for r in result["runs"]] == [
        ("roles.verifier=1", 1),
        ("roles.verifier=1", 2),
        ("roles.verifier=1", 3),
        ("roles.verifier=2", 1),
        ("roles.verifier=2", 2),
        ("roles.verifier=2", 3),
    ]
    lines = rows_csv.read_text().splitlines()
    assert lines[0].startswith("variant,set.roles.verifier,seed,throughput_per_day")
    assert len(lines) == 7


def test_sweep_text_names_the_interval_and_the_paired_seeds(capsys) -> None:
    code, out, _ = run(
        capsys,
        "sweep",
        "--seeds",
        "1..2",
        "--set",
        "settings.walk_speed=8,16",
        "--baseline",
        "16",
        "--ticks",
        "80",
        "--workers",
        "1",
    )
    assert code == 0
    assert "baseline settings.walk_speed=16" in out
    assert "settings.walk_speed=16  (baseline)" in out
    assert "95% CI, paired bootstrap" in out and "of 2 seeds" in out
    assert "throughput (directives/day)" in out and "at least" in out


def test_several_sets_form_a_grid_and_the_baseline_must_be_one_of_its_points(capsys) -> None:
    args = ["sweep", "--seeds", "1", "--ticks", "20", "--workers", "1", "--json"]
    grid = ["--set", "roles.verifier=1,2", "--set", "settings.walk_speed=8,16"]
    code, out, _ = run(capsys, *args, *grid)
    assert code == 0
    assert [v["set"] for v in json.loads(out)["variants"]] == [
        {"roles.verifier": 1, "settings.walk_speed": 8},
        {"roles.verifier": 1, "settings.walk_speed": 16},
        {"roles.verifier": 2, "settings.walk_speed": 8},
        {"roles.verifier": 2, "settings.walk_speed": 16},
    ]
    code, _, err = run(capsys, *args, *grid, "--baseline", "2")
    assert code == 2 and "name the field" in err
    code, _, err = run(capsys, *args, *grid, "--baseline", "roles.verifier=7")
    assert code == 2 and "not one of the swept values" in err


def test_any_scenario_field_is_sweepable_including_list_items(capsys) -> None:
    args = ["sweep", "--seeds", "1", "--ticks", "20", "--workers", "1", "--json"]
    code, out, _ = run(capsys, *args, "--set", "floors.0.tools.2.slots=1,2")
    assert code == 0
    assert [v["variant"] for v in json.loads(out)["variants"]] == [
        "floors.0.tools.2.slots=1",
        "floors.0.tools.2.slots=2",
    ]
    code, _, err = run(capsys, *args, "--set", "floors.7.tools.0.slots=1")
    assert code == 2 and "floors.7.tools.0.slots: no such field" in err


def test_forecast_from_a_scenario_answers_when_and_how_many(capsys, tmp_path) -> None:
    per_future = tmp_path / "futures.csv"
    code, out, err = run(
        capsys,
        "forecast",
        "--ticks",
        "60",
        "--add",
        '{"title": "Export invoices", "floor": "python", "priority": 1}',
        "--by-day",
        "30",
        "--futures",
        "6",
        "--workers",
        "2",
        "--csv",
        str(per_future),
        "--json",
    )
    report = json.loads(out)
    assert code == 0
    assert report["start"]["tick"] == 60 and report["futures"] == 6
    targets = report["targets"]
    assert len(targets["added"]) == 1
    assert targets["count"] == targets["open"] + targets["waiting"] + 1 == len(targets["keys"])
    assert {"p50", "p85", "p95", "finished_by_horizon"} <= set(report["completion"])
    assert report["by"]["tick"] == 240 and report["by"]["confidence"] == 0.85
    assert len(report["per_future"]) == 6
    assert len(per_future.read_text().splitlines()) == 7


def test_forecast_text_states_its_basis_and_the_lower_percentile(capsys) -> None:
    code, out, _ = run(
        capsys,
        "forecast",
        "--ticks",
        "40",
        "--add",
        '{"title": "Export invoices", "floor": "python", "priority": 1}',
        "--only-added",
        "--by-day",
        "20",
        "--futures",
        "4",
        "--workers",
        "1",
    )
    assert code == 0
    assert "4 futures (seed 1)" in out
    assert "targets: 1 directive(s): 1 added now (D-" in out
    assert "when will it be deployed?" in out
    assert "85% chance: within" in out or "85% chance: not within the horizon" in out
    assert "85% chance of at least" in out


def test_forecast_refuses_questions_it_cannot_answer(capsys) -> None:
    code, _, err = run(capsys, "forecast", "--only-added", "--futures", "2")
    assert code == 2 and "--add" in err
    code, _, err = run(capsys, "forecast", "--ticks", "80", "--by-day", "5", "--futures", "2")
    assert code == 2 and "day 5 ends at tick 40" in err
    code, _, err = run(capsys, "forecast", "--add", '{"title": "x", "floor": "cobol"}')
    assert code == 2 and err.startswith("miniature-office: --add:")
    code, _, err = run(capsys, "forecast", "--add", "not json")
    assert code == 2 and "not JSON" in err


def test_forecast_starts_from_a_stored_run(capsys, tmp_path) -> None:
    from miniature_office.runio import read_scenario
    from miniature_office.store import Store
    from miniature_office.store.persistence import Persistence

    url = f"sqlite:///{tmp_path / 'office.db'}"
    persistence = Persistence(Store(url))
    engine = persistence.open(read_scenario(None), 42)
    for _ in range(50):
        persistence.tick(engine.step())
    persistence.checkpoint()
    persistence.store.close()
    args = ["forecast", "--database", url, "--futures", "3", "--workers", "1", "--json"]
    code, out, err = run(capsys, *args)
    report = json.loads(out)
    assert code == 0, err
    assert report["start"]["tick"] == 50 and report["source"].startswith("stored run")
    open_now = [d for d in engine.world.board.directives.values() if d.state.value != "deployed"]
    assert report["targets"]["open"] == len(open_now)
    assert report["targets"]["waiting"] == len(engine.world.board.backlog)


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


def _engine_from_extension() -> bool:
    import importlib.machinery

    import miniature_office.sim.engine as engine

    return isinstance(engine.__loader__, importlib.machinery.ExtensionFileLoader)


def test_version_names_the_release_and_the_simulation_build_running(capsys) -> None:
    from miniature_office import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    build = "compiled (mypyc)" if _engine_from_extension() else "pure python"
    assert capsys.readouterr().out.strip() == f"miniature-office {__version__} ({build})"
