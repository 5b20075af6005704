"""The Head of Security's audit and the Consigliere's assessment, on constructed runs."""

from __future__ import annotations

from miniature_office.service.previews import assess_directive
from miniature_office.service.security_audit import audit_events

from .builders import directive, engine_with, run_until


def test_the_audit_lists_sensitive_work_that_shipped_without_a_security_pass() -> None:
    engine = engine_with(
        directives=[
            directive("secret sauce", sensitivity=0.9),
            directive("plain", sensitivity=0.0),
        ],
        security_threshold=1.0,  # no security reviews at all while this work is done
    )
    run_until(engine, lambda e: e.world.totals["directives_deployed"] == 2)
    events = [e.to_dict() for e in engine.world.audit]
    assert audit_events(events, engine.world)["sensitive_shipped_without_security_review"] == []
    engine.submit("set_setting", {"path": "settings.security_threshold", "value": 0.5})
    engine.apply_pending()
    report = audit_events(events, engine.world)
    flagged = {row["task"] for row in report["sensitive_shipped_without_security_review"]}
    secret = next(d for d in engine.world.board.directives.values() if d.title == "secret sauce")
    assert flagged == set(secret.task_ids)


def test_assess_says_when_a_new_directive_would_deploy_and_what_delays_it() -> None:
    engine = engine_with(directives=[directive("first")])
    engine.run(5)
    answer = assess_directive(
        engine, {"title": "next", "floor": "python"}, futures=3, ticks=150, seed=2
    )
    assert answer["deployed_by_horizon"] == 3
    p50, p95 = answer["deployed"]["p50"]["ticks"], answer["deployed"]["p95"]["ticks"]
    assert 0 < p50 <= p95 <= 150
    assert sum(row["futures"] for row in answer["slowest_stage"]) == 3
    assert answer["sentence"].startswith("created now it deploys in p50")
