#!/usr/bin/env bash
# Install what the real-network peer tests need; safe to run again (each step is skipped
# when its result is already there). Everything downloaded lands in the gitignored .peers/.
#   - PostgreSQL and Redis (Debian) + @atproto/dev-env (npm): a live Bluesky PDS + AppView
#   - Mastodon.py's sdist: vcrpy cassettes recorded against a real Mastodon server
#   - feedparser's sdist: its well-formed and ill-formed test feeds
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS="$PWD/.peers"
PY="${PYTHON:-.venv/bin/python}"
mkdir -p "$PEERS"

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      echo "peers: missing Debian packages (not root, skipping): ${missing[*]}" >&2
    fi
  fi
}

apt_install postgresql redis-server
# the package tests: PyInstaller's objdump/strip, systemd-analyze for the unit, Xvfb for a real display
apt_install binutils systemd xvfb

if ! command -v node >/dev/null 2>&1; then
  apt_install nodejs npm
fi

DEV_ENV_VERSION="0.3.215"
if [ ! -f "$PEERS/node_modules/@atproto/dev-env/package.json" ] \
   || ! grep -q "\"version\": \"$DEV_ENV_VERSION\"" "$PEERS/node_modules/@atproto/dev-env/package.json"; then
  [ -f "$PEERS/package.json" ] || echo '{"name": "watchfloor-peers", "private": true}' > "$PEERS/package.json"
  (cd "$PEERS" && npm install --no-audit --no-fund --loglevel=error "@atproto/dev-env@$DEV_ENV_VERSION")
fi

sdist() {  # sdist NAME==VERSION DIRNAME
  local spec="$1" dir="$2"
  if [ ! -d "$PEERS/$dir" ]; then
    local tmp
    tmp="$(mktemp -d)"
    "$PY" -m pip download --quiet --no-binary :all: --no-deps --dest "$tmp" "$spec"
    mkdir -p "$PEERS/$dir.tmp"
    tar -xzf "$tmp"/*.tar.gz -C "$PEERS/$dir.tmp" --strip-components=1
    mv "$PEERS/$dir.tmp" "$PEERS/$dir"
    rm -rf "$tmp"
  fi
}

sdist "Mastodon.py==2.3.3" mastodonpy
sdist "feedparser==6.0.14" feedparser
echo "peers: ready in $PEERS"
