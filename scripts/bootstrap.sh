#!/usr/bin/env bash
# Sets up everything OpenSGL needs on a fresh Debian machine: system libraries and a virtualenv.
# Idempotent and quick when nothing changed (the pip step is skipped while pyproject.toml is unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libdmtx0b fonts-dejavu-core poppler-utils zbar-tools chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.opensgl-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python dependencies"
  .venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
  echo "$want" > "$stamp"
fi
