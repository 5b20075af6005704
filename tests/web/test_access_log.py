"""The access logger prints exactly what Gunicorn's own would, without unused atoms."""

from __future__ import annotations

import datetime

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from miniature_office.web.access_log import AccessLogger

PACKAGED_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class FakeResponse:
    status = "200 OK"
    sent = 187
    headers = [("Content-Type", "application/json"), ("X-Frame-Options", "DENY")]


class FakeRequest:
    headers = [("HOST", "office.example"), ("X-REQUEST-ID", "abc-123")]


ENVIRON = {
    "REMOTE_ADDR": "10.0.0.7",
    "REQUEST_METHOD": "GET",
    "RAW_URI": "/health?x=1",
    "PATH_INFO": "/health",
    "QUERY_STRING": "x=1",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_USER_AGENT": 'curl/8 "quoted"',
    "HTTP_REFERER": "https://office.example/",
    "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz",  # user:pass
    "wsgi.url_scheme": "https",
    "miniature_office.started": 12.5,
}


def _line(logger_class: type[Logger], fmt: str) -> str:
    cfg = Config()
    cfg.set("access_log_format", fmt)
    logger = logger_class(cfg)
    elapsed = datetime.timedelta(seconds=1, microseconds=234567)
    atoms = logger.atoms_wrapper_class(
        logger.atoms(FakeResponse(), FakeRequest(), ENVIRON, elapsed)
    )
    return fmt % atoms


@pytest.mark.parametrize(
    "fmt",
    [
        PACKAGED_FORMAT,
        '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(m)s %(U)s %(q)s %(H)s %(D)s %(L)s',
        '%(h)s "%(r)s" rid=%({x-request-id}i)s type=%({content-type}o)s %({wsgi.url_scheme}e)s',
    ],
)
def test_lines_match_gunicorns_own_logger(fmt):
    assert _line(AccessLogger, fmt) == _line(Logger, fmt)


def test_the_packaged_format_line():
    assert _line(AccessLogger, PACKAGED_FORMAT) == (
        '10.0.0.7 "GET /health?x=1 HTTP/1.1" 200 187 1234ms "curl/8 \\"quoted\\""'
    )


def test_header_atoms_are_still_available_when_the_format_asks_for_them():
    line = _line(AccessLogger, "%({x-request-id}i)s %({x-frame-options}o)s")
    assert line == "abc-123 DENY"


def test_the_packaged_gunicorn_config_uses_it_with_that_format():
    from miniature_office.web import gunicorn_conf

    assert gunicorn_conf.logger_class == "miniature_office.web.access_log.AccessLogger"
    assert gunicorn_conf.access_log_format == PACKAGED_FORMAT
