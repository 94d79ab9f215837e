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

# The web workbench (web/): Node packages from package-lock.json (npm ci) and the production build that
# `sgl serve` serves at /. Redone only when the lock file or the sources change. Needs Node.js >= 20.19.
if node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  lock=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -f web/node_modules/.opensgl-installed ] || [ "$(cat web/node_modules/.opensgl-installed)" != "$lock" ]; then
    echo "bootstrap: installing the web workbench's packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" > web/node_modules/.opensgl-installed
  fi
  sources=$(cd web && find src index.html package-lock.json tsconfig.json vite.config.ts -type f -print0 | sort -z \
            | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  if [ ! -f web/dist/.opensgl-built ] || [ "$(cat web/dist/.opensgl-built)" != "$sources" ]; then
    echo "bootstrap: building the web workbench (npm run build)"
    (cd web && npm run build)
    echo "$sources" > web/dist/.opensgl-built
  fi
else
  echo "bootstrap: Node.js >= 20.19 not found: the web workbench is not built (/ answers 404; its browser tests fail)" >&2
fi
