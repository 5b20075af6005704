"""Response headers graded by the Mozilla Observatory's rules: every kind of answer gets A+.

The grader below follows the Observatory's scoring for the headers a server controls: it
starts at 100, subtracts for a missing or weak Content-Security-Policy, HSTS (over HTTPS),
X-Content-Type-Options and frame protection, adds the bonuses for frame-ancestors in the CSP
and a private Referrer-Policy (bonuses count only from 90 up), and maps the score to a grade.
"""

from __future__ import annotations

from typing import Mapping

import pytest
from web.conftest import build_app

GRADES = [(100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"), (60, "C+"),
          (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"), (0, "F")]  # fmt: skip
PRIVATE_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
HALF_A_YEAR = 15768000


def csp_directives(value: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


def grade(headers: Mapping[str, str], https: bool) -> tuple[int, str, list[str]]:
    """(score, grade, reasons) for one response's headers."""
    score, bonus, reasons = 100, 0, []
    csp = headers.get("Content-Security-Policy")
    directives = csp_directives(csp) if csp else {}
    if not csp:
        score -= 25
        reasons.append("csp-not-implemented")
    else:
        script = directives.get("script-src", directives.get("default-src", []))
        style = directives.get("style-src", directives.get("default-src", []))
        if "'unsafe-inline'" in script or "'unsafe-eval'" in script:
            score -= 20
            reasons.append("csp-implemented-with-unsafe-inline")
        elif "'unsafe-inline'" in style:
            score -= 5
            reasons.append("csp-implemented-with-unsafe-inline-in-style-src-only")
        elif "default-src" not in directives or "object-src" not in directives:
            score -= 10
            reasons.append("csp-implemented-but-not-default-src")
    if https:
        hsts = headers.get("Strict-Transport-Security", "")
        max_age = 0
        for part in hsts.split(";"):
            name, _, value = part.strip().partition("=")
            if name.lower() == "max-age" and value.isdigit():
                max_age = int(value)
        if not hsts:
            score -= 20
            reasons.append("hsts-not-implemented")
        elif max_age < HALF_A_YEAR:
            score -= 10
            reasons.append("hsts-implemented-max-age-less-than-six-months")
    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        score -= 5
        reasons.append("x-content-type-options-not-implemented")
    ancestors = directives.get("frame-ancestors")
    if ancestors == ["'none'"] or ancestors == ["'self'"]:
        bonus += 5
    elif headers.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN"):
        score -= 20
        reasons.append("x-frame-options-not-implemented")
    if headers.get("Referrer-Policy", "").split(",")[-1].strip().lower() in PRIVATE_REFERRERS:
        bonus += 5
    elif "Referrer-Policy" in headers and headers["Referrer-Policy"].lower() == "unsafe-url":
        score -= 5
        reasons.append("referrer-policy-unsafe")
    if score >= 90:
        score += bonus
    letter = next(name for floor, name in GRADES if score >= floor)
    return score, letter, reasons


@pytest.fixture(scope="module")
def client():
    return build_app().test_client()


ANSWERS = ["/", "/api/world/state", "/api/no-such-thing", "/health", "/api/openapi.json",
           "/static/js/main.js", "/metrics"]  # fmt: skip


@pytest.mark.parametrize("path", ANSWERS)
def test_every_kind_of_answer_gets_the_top_grade_over_https(client, path) -> None:
    response = client.get(path, base_url="https://office.example")
    score, letter, reasons = grade(response.headers, https=True)
    assert letter == "A+", (path, score, reasons)


@pytest.mark.parametrize("path", ["/", "/api/world/state"])
def test_over_plain_http_there_is_no_hsts_and_still_the_top_grade(client, path) -> None:
    response = client.get(path)
    assert "Strict-Transport-Security" not in response.headers
    assert grade(response.headers, https=False)[1] == "A+"


def test_the_policy_has_no_unsafe_inline_or_eval(client) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_the_grader_marks_down_what_is_missing() -> None:
    weak = {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'"}
    score, letter, reasons = grade(weak, https=True)
    assert letter in ("D", "D-", "F") and "hsts-not-implemented" in reasons
    assert "csp-implemented-with-unsafe-inline" in reasons
