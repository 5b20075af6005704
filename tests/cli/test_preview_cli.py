"""``miniature-office preview``: what if, against a stored run or a scenario."""

from __future__ import annotations

import json

from miniature_office.cli import main

HIRE = '{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}'


def test_preview_against_a_stored_run_compares_paired_futures(capsys, tmp_path) -> None:
    from miniature_office.runio import read_scenario
    from miniature_office.store import Store
    from miniature_office.store.persistence import Persistence

    url = f"sqlite:///{tmp_path / 'office.db'}"
    persistence = Persistence(Store(url))
    engine = persistence.open(read_scenario(None), 42)
    for _ in range(60):
        persistence.tick(engine.step())
    persistence.checkpoint()
    persistence.store.close()
    args = ["preview", "--database", url, "--command", HIRE, "--futures", "2", "--horizon", "30"]
    code = main([*args, "--workers", "1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["start_tick"] == 60 and report["futures"] == 2
    assert report["commands"] == [json.loads(HIRE)]
    assert report["difference"]["throughput"]["n"] == 2
    code = main([*args, "--workers", "1"])
    text = capsys.readouterr().out
    assert code == 0 and "2 paired futures of 30 ticks" in text and "throughput" in text
    assert "range in this office" in text and "expected effect" in text
    assert "ran 2 of at most 2 futures; stopped: cap reached" in text


def test_preview_runs_in_looks_unless_fixed(capsys) -> None:
    base = ["preview", "--ticks", "30", "--command", HIRE, "--horizon", "20", "--workers", "1"]
    main([*base, "--futures", "20", "--json"])
    looked = json.loads(capsys.readouterr().out)["sequential"]
    assert [look["futures"] for look in looked["looks"]] == looked["planned_looks"][
        : len(looked["looks"])
    ]
    assert looked["planned_looks"] == [8, 16, 20] and looked["stopped_because"]
    main([*base, "--futures", "12", "--fixed", "--json"])
    fixed = json.loads(capsys.readouterr().out)
    assert fixed["futures"] == 12 and fixed["sequential"]["planned_looks"] == [12]


def test_preview_refuses_a_command_the_world_refuses(capsys) -> None:
    bad = '{"kind": "hire_agent", "payload": {"floor": "cobol", "role": "builder"}}'
    code = main(["preview", "--command", bad, "--futures", "1", "--horizon", "5"])
    assert code == 2
    assert "unknown floor" in capsys.readouterr().err


def test_forecast_and_sweep_run_on_a_dask_scheduler(capsys) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        forecast = ["forecast", "--ticks", "20", "--futures", "2", "--horizon", "60", "--json"]
        assert main([*forecast, "--scheduler", address]) == 0
        on_dask = json.loads(capsys.readouterr().out)
        sweep = ["sweep", "--seeds", "1,2", "--ticks", "20", "--set", "roles.verifier=1,2"]
        assert main([*sweep, "--scheduler", address, "--json"]) == 0
        swept = json.loads(capsys.readouterr().out)
    assert main([*forecast, "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == on_dask  # the same futures wherever they run
    assert len(swept["variants"]) == 2
