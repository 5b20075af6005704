# syntax=docker/dockerfile:1
#
# Miniature Office container image.
#
#   docker build -t miniature-office .
#   docker run -p 8000:8000 -e SECRET_KEY=... -v minioffice-data:/data miniature-office
#
# Three stages: the UI's vendor files come from npm, the wheel is built from the source tree
# with the simulation compiled by mypyc (setup.py; the build stage has the C compiler), and the
# runtime stage holds only a virtualenv with the installed wheel. No compiler, npm, build
# frontend or package cache reaches the final image.

ARG PYTHON_VERSION=3.12
ARG NODE_VERSION=20

# --- 1. UI vendor files (socket.io client and friends) from package-lock.json ----------------
FROM node:${NODE_VERSION}-bookworm-slim AS vendor
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/copy-vendor.mjs scripts/
COPY static/ static/
RUN node scripts/copy-vendor.mjs

# --- 2. Wheel, installed with the pinned runtime requirements into a virtualenv -------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# gcc compiles the simulation (mypyc's C); this stage is discarded. Unpinned as in the runtime
# stage: the image tag pins the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && python -m pip install "build>=1.2,<2" \
 && python -m venv /opt/venv
COPY pyproject.toml setup.py README.md requirements.txt ./
COPY src/ src/
COPY static/ static/
COPY --from=vendor /src/static/vendor/ static/vendor/
# src/miniature_office/static is a symlink to ../../static, so the wheel carries the UI. The
# image must run the compiled simulation: a build that fell back to pure Python fails here.
RUN python -m build --wheel --outdir /dist \
 && /opt/venv/bin/pip install -r requirements.txt /dist/*.whl \
 && /opt/venv/bin/python -c "import miniature_office.web.wsgi" \
 && /opt/venv/bin/python -c "import sys; from miniature_office.native import chosen; \
b = chosen(); sys.exit(0 if b.compiled else 'the simulation is pure Python: ' + b.reason)"

# --- 3. Runtime ------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

# curl is the HEALTHCHECK probe. Debian point releases move package versions, so curl is not
# pinned: the image tag pins the release and a rebuild picks up its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 minioffice \
 && useradd --system --uid 10001 --gid minioffice --no-create-home \
        --home-dir /data --shell /usr/sbin/nologin minioffice \
 && mkdir -p /data \
 && chown minioffice:minioffice /data \
 && chmod 0750 /data

COPY --from=build /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MINIOFFICE_ENV=production \
    MINIOFFICE_HOST=0.0.0.0 \
    MINIOFFICE_PORT=8000 \
    MINIOFFICE_DATA_DIR=/data

LABEL org.opencontainers.image.title="miniature-office" \
      org.opencontainers.image.description="A software company in miniature that you watch, steer and measure in the browser." \
      org.opencontainers.image.licenses="MIT"

WORKDIR /data
VOLUME ["/data"]
# Numeric so that Kubernetes' runAsNonRoot can verify it: 10001 is minioffice.
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "curl --fail --silent --show-error --max-time 4 \"http://127.0.0.1:${MINIOFFICE_PORT}/health\" >/dev/null || exit 1"]

CMD ["gunicorn", "-c", "python:miniature_office.web.gunicorn_conf", "miniature_office.web.wsgi:app"]
