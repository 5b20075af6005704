"""Stalls through the API: the open stalls with cause, reason and remedy, and the summary."""

from __future__ import annotations

from miniature_office.sim.stalls import STALL_CAUSES


def test_stalls_route_lists_open_stalls_by_closed_cause_set(stepped_client):
    body = stepped_client.get("/api/flow/stalls").get_json()
    assert body["tick"] == 40 and isinstance(body["open"], list)
    assert set(body["by_cause"]) == set(STALL_CAUSES)
    assert body["episodes"] >= len(body["open"]) == sum(body["by_cause"].values())


def test_flow_summary_and_row_carry_the_stall_figures(stepped_client):
    flow = stepped_client.get("/api/flow").get_json()
    assert {"stalls", "stalls_by_cause", "stalls_open"} <= set(flow["summary"])
    assert flow["latest"]["stalls_open"] == len(flow["summary"]["stalls_open"])


def test_stalls_route_is_described_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/flow/stalls"]
