"""docker-compose.yml runs the app alone by default and scales out under the "scale" profile."""

from __future__ import annotations

import re

import pytest
import yaml

from ._support import CONFIG_VARIABLES, REPO, explain, run, tool

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_compose_file_matches_the_compose_specification():
    # check-jsonschema ships the compose-spec JSON schema (vendor.compose-spec).
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)]
    )
    assert result.returncode == 0, explain(result)


def test_default_profile_runs_the_app_alone_on_a_named_volume(services):
    default = [name for name, svc in services.items() if not svc.get("profiles")]
    assert default == ["app"]
    app = services["app"]
    assert "data:/data" in app["volumes"]
    assert app["environment"]["MINIOFFICE_DATA_DIR"] == "/data"
    assert app["environment"]["MINIOFFICE_WORKERS"] == "1"
    assert "MESSAGE_QUEUE" not in app["environment"]


def test_scale_profile_adds_redis_postgres_and_a_four_worker_app(services):
    scale = {name for name, svc in services.items() if "scale" in svc.get("profiles", [])}
    assert scale == {"app-scale", "redis", "postgres"}
    env = services["app-scale"]["environment"]
    assert env["MINIOFFICE_WORKERS"] == "4"
    assert env["MESSAGE_QUEUE"] == "redis://redis:6379/0"
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert services["app-scale"]["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }


def test_every_service_has_a_healthcheck_and_a_restart_policy(services):
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name


def test_app_healthcheck_probes_health(services):
    for name in ("app", "app-scale"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "curl" and "--fail" in test
        assert test[-1] == "http://127.0.0.1:8000/health"


def test_app_containers_are_locked_down(services):
    for name in ("app", "app-scale"):
        service = services[name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert "/tmp" in service["tmpfs"]


def test_app_is_published_on_loopback_by_default(services):
    assert services["app"]["ports"] == ["${MINIOFFICE_PUBLISH:-127.0.0.1:8000}:8000"]


def test_secret_key_is_required_and_not_committed(services):
    assert services["app"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert re.search(r"^SECRET_KEY=$", ENV_EXAMPLE.read_text(), re.M)
    assert re.search(r"^POSTGRES_PASSWORD=$", ENV_EXAMPLE.read_text(), re.M)


def _documented_variables() -> set[str]:
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))


def test_env_example_documents_every_configuration_variable():
    missing = set(CONFIG_VARIABLES) - _documented_variables()
    assert not missing


def test_env_example_documents_every_variable_the_compose_file_reads(services):
    text = COMPOSE.read_text()
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    passed_through = {
        key
        for service in services.values()
        for key, value in (service.get("environment") or {}).items()
        if value is None
    }
    missing = (interpolated | passed_through) - _documented_variables()
    assert not missing
