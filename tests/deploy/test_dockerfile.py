"""The Dockerfile builds a small, non-root image that serves the packaged app."""

from __future__ import annotations

import fnmatch
import json
import shlex

from ._support import REPO, explain, run, tool


def test_dockerfile_passes_hadolint():
    result = run([tool("hadolint"), "--failure-threshold", "info", str(REPO / "Dockerfile")])
    assert result.returncode == 0, explain(result)


def test_image_is_built_in_node_build_and_runtime_stages(stages):
    assert [stage.name for stage in stages] == ["vendor", "build", "runtime"]
    vendor, build, runtime = stages
    assert vendor.base.startswith("node:")
    vendor_runs = " ".join(vendor.all("RUN"))
    assert "npm ci" in vendor_runs and "node scripts/copy-vendor.mjs" in vendor_runs
    assert any("package-lock.json" in copy for copy in vendor.all("COPY"))
    assert "python -m build --wheel" in " ".join(build.all("RUN"))
    assert any("--from=vendor" in copy and "static/vendor" in copy for copy in build.all("COPY"))
    assert "slim" in runtime.base


def test_base_images_are_pinned_to_a_version_not_latest(stages):
    for stage in stages:
        assert ":" in stage.base and not stage.base.endswith(":latest"), stage.base


def test_runtime_stage_carries_no_build_tools_or_caches(runtime_stage):
    runs = " ".join(runtime_stage.all("RUN"))
    for build_tool in ("gcc", "build-essential", "npm", "python -m build", "pip install"):
        assert build_tool not in runs, build_tool
    assert "--no-install-recommends" in runs
    assert "rm -rf /var/lib/apt/lists/*" in runs
    copies = runtime_stage.all("COPY")
    assert copies == ["--from=build /opt/venv /opt/venv"], copies
    env = runtime_stage.env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_build_stage_keeps_no_pip_cache(stages):
    build = stages[1]
    assert build.env().get("PIP_NO_CACHE_DIR") == "1"


def test_deployment_runs_as_non_root(runtime_stage):
    runs = " ".join(runtime_stage.all("RUN"))
    assert "useradd" in runs and "minioffice" in runs
    assert "--uid 10001" in runs and "--gid 10001" in runs
    user = runtime_stage.last("USER")
    assert user.split(":")[0] not in ("root", "0")
    # Numeric, so that Kubernetes can check runAsNonRoot against the image.
    assert user == "10001:10001"


def test_app_writes_only_to_the_data_volume(runtime_stage):
    env = runtime_stage.env()
    assert env["MINIOFFICE_DATA_DIR"] == "/data"
    assert json.loads(runtime_stage.last("VOLUME")) == ["/data"]
    assert "chown minioffice:minioffice /data" in " ".join(runtime_stage.all("RUN"))


def test_container_listens_on_all_interfaces_port_8000_in_production(runtime_stage):
    env = runtime_stage.env()
    assert env["MINIOFFICE_HOST"] == "0.0.0.0"
    assert env["MINIOFFICE_PORT"] == "8000"
    assert env["MINIOFFICE_ENV"] == "production"
    assert runtime_stage.last("EXPOSE") == "8000"


def test_container_starts_gunicorn_with_the_packaged_config(runtime_stage):
    assert runtime_stage.exec_form("CMD") == [
        "gunicorn",
        "-c",
        "python:miniature_office.web.gunicorn_conf",
        "miniature_office.web.wsgi:app",
    ]
    assert not runtime_stage.all("ENTRYPOINT")


def test_healthcheck_probes_health_with_curl(runtime_stage):
    healthcheck = runtime_stage.last("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options and "--start-period=" in options
    argv = json.loads(command)
    shell_command = argv[-1] if argv[:2] == ["sh", "-c"] else shlex.join(argv)
    assert shell_command.startswith("curl --fail")
    assert "http://127.0.0.1:${MINIOFFICE_PORT}/health" in shell_command


def _dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((negated, line.lstrip("!").rstrip("/").removeprefix("**/")))
    return patterns


def _ignored(path: str) -> bool:
    """Docker's rule in short: the last matching pattern wins; a match on a parent counts."""
    parts = path.rstrip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, pattern in _dockerignore_patterns():
        if any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p.split("/")[-1], pattern)
            for p in prefixes
        ):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_context():
    for path in (".git", ".venv", ".env", "node_modules", "static/vendor", "instance", "x.db"):
        assert _ignored(path), path


def test_dockerignore_keeps_every_file_the_dockerfile_copies(stages):
    for stage in stages:
        for copy in stage.all("COPY"):
            if copy.startswith("--from="):
                continue
            *sources, _destination = copy.split()
            for source in sources:
                assert not _ignored(source), f"{source} is copied but excluded by .dockerignore"


def test_the_compiled_build_type_checks_with_the_pinned_pydantic(stages):
    # mypyc type-checks sim/ in the isolated build environment: pyproject's build requirements
    # carry what sim/ imports, pydantic at requirements.txt's pin (or the image's compile could
    # fail on another version and fall back to pure Python, which the Dockerfile refuses).
    text = (REPO / "pyproject.toml").read_text()
    requires = text.split("[build-system]", 1)[1].split("]", 1)[0]  # its requires = [...] list
    pins = dict(
        line.split("==", 1) for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )  # fmt: skip
    pydantic = pins["pydantic"]
    assert f'"pydantic=={pydantic}"' in requires
    assert '"mypy>=' in requires and '"types-PyYAML' in requires
    assert "setup.py" in " ".join(stages[1].all("COPY"))  # the build stage compiles
