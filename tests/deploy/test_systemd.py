"""The systemd unit runs Gunicorn as a dedicated user in a hardened sandbox."""

from __future__ import annotations

import configparser

import pytest

from ._support import REPO, explain, run, tool

UNIT = REPO / "deploy" / "systemd" / "miniature-office.service"
ENV_EXAMPLE = REPO / "deploy" / "systemd" / "miniature-office.env.example"
GUNICORN = "/opt/miniature-office/bin/gunicorn"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(UNIT.read_text())
    return parser


def _copy_with_existing_binary(tmp_path):
    """systemd-analyze verify checks that ExecStart exists; point it at a real binary."""
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace(f"ExecStart={GUNICORN}", "ExecStart=/bin/true"))
    return copy


def test_unit_passes_systemd_analyze_verify(tmp_path):
    result = run([tool("systemd-analyze"), "verify", str(_copy_with_existing_binary(tmp_path))])
    # Unknown keys, bad values and missing binaries are all reported on stderr.
    assert result.returncode == 0 and not result.stderr.strip(), explain(result)


def test_unit_sandbox_scores_ok_in_systemd_analyze_security(tmp_path):
    copy = _copy_with_existing_binary(tmp_path)
    # --threshold is in tenths of the exposure score: fail above 2.0 ("OK").
    result = run(
        [tool("systemd-analyze"), "security", "--offline=yes", "--threshold=20", str(copy)]
    )
    assert result.returncode == 0, explain(result)


def test_unit_runs_the_container_command_as_a_dedicated_user():
    service = _unit()["Service"]
    assert service["User"] == "minioffice" and service["Group"] == "minioffice"
    assert service["ExecStart"] == (
        f"{GUNICORN} -c python:miniature_office.web.gunicorn_conf miniature_office.web.wsgi:app"
    )
    assert service["Type"] == "notify"
    assert service["Restart"] == "on-failure"


def test_unit_writes_only_to_its_state_directory():
    service = _unit()["Service"]
    assert service["StateDirectory"] == "miniature-office"
    assert service["Environment"] == "MINIOFFICE_DATA_DIR=/var/lib/miniature-office"
    assert service["ProtectSystem"] == "strict"


@pytest.mark.parametrize(
    "setting",
    [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
    ],
)
def test_unit_is_hardened(setting):
    assert setting in UNIT.read_text().splitlines()


def test_environment_file_example_holds_no_secret():
    text = ENV_EXAMPLE.read_text()
    assert "SECRET_KEY=\n" in text
    assert "MINIOFFICE_HOST=127.0.0.1" in text
    assert f"EnvironmentFile=/etc/miniature-office/{UNIT.stem}.env" in UNIT.read_text()
