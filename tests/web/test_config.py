"""Configuration: every setting from the environment, validated once, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from miniature_office.service.config import ConfigError, load_config


def test_defaults_match_the_documented_values():
    config = load_config({})
    assert (config.env, config.host, config.port) == ("development", "127.0.0.1", 8000)
    assert (config.tick_rate, config.seed, config.autostart) == (2.0, 42, True)
    assert config.cors_origins == ()
    assert config.max_content_length == 16 * 1024 * 1024
    assert (config.async_mode, config.workers, config.hsts) == ("eventlet", 1, True)
    assert config.scenario is None and config.data_dir is None and config.proxy_fix == 0


def test_every_variable_is_read():
    config = load_config(
        {
            "MINIOFFICE_ENV": "production",
            "MINIOFFICE_HOST": "0.0.0.0",  # nosec B104 - a value under test
            "MINIOFFICE_PORT": "9000",
            "MINIOFFICE_TICK_RATE": "5",
            "MINIOFFICE_SCENARIO": "/tmp/s.yaml",
            "MINIOFFICE_SEED": "7",
            "MINIOFFICE_AUTOSTART": "false",
            "MINIOFFICE_CORS_ORIGINS": "https://a.example, https://b.example:8443",
            "MINIOFFICE_LOG_LEVEL": "debug",
            "MINIOFFICE_MAX_CONTENT_LENGTH": "2048",
            "MINIOFFICE_ASYNC_MODE": "threading",
            "MINIOFFICE_WORKERS": "3",
            "MINIOFFICE_HSTS": "false",
            "MINIOFFICE_PROXY_FIX": "1",
            "MINIOFFICE_DATA_DIR": "/data",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "sqlite:///x.db",
            "MESSAGE_QUEUE": "redis://localhost:6379/0",
        }
    )
    assert config.port == 9000 and config.tick_rate == 5 and config.seed == 7
    assert config.scenario == Path("/tmp/s.yaml") and config.data_dir == Path("/data")
    assert config.cors_origins == ("https://a.example", "https://b.example:8443")
    assert config.log_level == "DEBUG" and config.async_mode == "threading"
    assert config.workers == 3 and not config.hsts and not config.autostart
    assert config.proxy_fix == 1 and config.message_queue and config.database_url


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MINIOFFICE_PORT", "abc"),
        ("MINIOFFICE_PORT", "70000"),
        ("MINIOFFICE_TICK_RATE", "-1"),
        ("MINIOFFICE_SEED", "x"),
        ("MINIOFFICE_ENV", "staging"),
        ("MINIOFFICE_ASYNC_MODE", "gevent"),
        ("MINIOFFICE_AUTOSTART", "maybe"),
        ("MINIOFFICE_MAX_CONTENT_LENGTH", "0"),
        ("MINIOFFICE_CORS_ORIGINS", "*"),
        ("MINIOFFICE_CORS_ORIGINS", "https://a.example/path"),
    ],
)
def test_an_invalid_value_stops_start_up_naming_the_variable(variable, value):
    with pytest.raises(ConfigError) as caught:
        load_config({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}:")


def test_production_without_secret_key_is_refused_with_a_clear_message():
    with pytest.raises(ConfigError) as caught:
        load_config({"MINIOFFICE_ENV": "production", "SECRET_KEY": "  "})
    assert caught.value.variable == "SECRET_KEY"
    assert "required" in str(caught.value) and "token_urlsafe" in str(caught.value)


def test_development_generates_a_random_secret_key_per_start():
    first, second = load_config({}), load_config({})
    assert len(first.secret_key) >= 32 and first.secret_key != second.secret_key
    assert first.secret_key not in repr(first)


def test_more_than_one_worker_without_message_queue_is_refused_and_explained():
    with pytest.raises(ConfigError) as caught:
        load_config({"MINIOFFICE_WORKERS": "2"})
    message = str(caught.value)
    assert caught.value.variable == "MINIOFFICE_WORKERS"
    assert "one process" in message and "MESSAGE_QUEUE" in message


def test_blank_variables_keep_the_default():
    assert load_config({"MINIOFFICE_PORT": "", "MINIOFFICE_SEED": " "}).port == 8000


def test_the_store_location_comes_from_the_config_only(monkeypatch, tmp_path):
    from miniature_office.service.config import cli_config
    from miniature_office.store.location import database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.chdir(tmp_path)
    # location.py no longer reads the environment behind the configuration's back
    assert database_url() == f"sqlite:///{tmp_path / 'instance' / 'miniature_office.db'}"
    # the server's and the CLI's configurations agree, defaults included
    for environ in (
        {},
        {"MINIOFFICE_DATA_DIR": str(tmp_path / "d")},
        {"DATABASE_URL": "sqlite:///x.db"},
    ):
        assert load_config(environ).store_url() == cli_config(environ).store_url()
    assert load_config({}).store_url().endswith("/instance/miniature_office.db")
    assert cli_config({"MINIOFFICE_ENV": "production"}).store_url()  # no SECRET_KEY needed
