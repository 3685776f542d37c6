# Shared by scripts/run and scripts/test: find the toolchain and install what is missing.
# shellcheck shell=bash

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

log() { printf '[tokenmeter] %s\n' "$*" >&2; }

# Debian packages the build and the embedded database need.
TOKENMETER_PACKAGES=(pkg-config libpq-dev zlib1g-dev libcurl4-openssl-dev postgresql-15 curl python3 python3-venv)

install_dependencies() {
    local missing=()
    for package in "${TOKENMETER_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        # Do not let the package create and start Debian's own cluster; Tokenmeter runs its own.
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            $sudo mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
        fi
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if ! command -v swift >/dev/null 2>&1; then
        log "the Swift toolchain (6.x) is required: put swift on PATH (looked in /opt/swift/usr/bin too)"
        exit 1
    fi
}
