"""Security fixtures: apps with one token per role, built like the web tests' apps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web.conftest import ADMIN_TOKEN, build_app

from miniature_office.store.tokens import AccessRole
from miniature_office.web.auth import get_authenticator


@dataclass
class Secured:
    """An app and a token for each role (and none)."""

    app: Flask
    tokens: dict[str, str | None]

    def client(self, who: str | None) -> FlaskClient:
        """A test client sending the token of role ``who`` (None: no token at all)."""
        return self.app.test_client(token=self.tokens[who] if who else None)


def secured(**overrides: Any) -> Secured:
    """An app (production-like reads unless told otherwise) with viewer/operator/admin tokens."""
    app = build_app(**overrides)
    store = get_authenticator(app).tokens
    tokens: dict[str, str | None] = {"admin": ADMIN_TOKEN}
    for role in (AccessRole.VIEWER, AccessRole.OPERATOR):
        tokens[role.value] = store.create(f"test-{role.value}", role, actor="test")[1]
    return Secured(app, tokens)


@pytest.fixture
def closed() -> Secured:
    """Reads need a token (MINIOFFICE_AUTH_READS=true), as in production."""
    return secured(auth_reads=True)


@pytest.fixture
def open_reads() -> Secured:
    """The development default: reads are open, mutations need a token."""
    return secured()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long fuzz run only runs when asked for (``-m fuzz``, as ``make fuzz`` does)."""
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="the long fuzz run: make fuzz"))
