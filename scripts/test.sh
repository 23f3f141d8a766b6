#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with Node >= 20:
#   npm run test:ci        (what .ci/run calls)
# Installs the Debian packages the tests use when they are missing (Knot and
# Unbound serve the generated portfolio, Redis carries the distributed
# tests, Chromium renders the HTML report, openssl makes the probe tests'
# certificates, iproute2 brings up loopback in a new network namespace),
# installs the npm dependencies when node_modules is missing or older than
# the lock file, then runs `npm test` (type-check and build in one `tsc`,
# lint beside it, then every test layer) in a network namespace whose only
# interface is loopback, with a Redis of its own on 127.0.0.1:6379
# (scripts/loopback-only.sh): no test can reach another machine, and none
# meets a Redis or a port in use outside.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'test.sh: %s\n' "$*" >&2; }

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ((node_major < 20)); then
  say "Node.js 20 or later is needed (found: $(node -v 2>/dev/null || echo none))"
  exit 1
fi

# binary -> Debian package
need=()
for pair in knotd:knot kdig:knot-dnsutils unbound:unbound \
  redis-server:redis-server chromium:chromium openssl:openssl \
  ip:iproute2 unshare:util-linux; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || {
      say "missing ${need[*]}: run as root or install them: apt-get install ${need[*]}"
      exit 1
    }
    sudo=(sudo)
  fi
  say "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
exec bash scripts/loopback-only.sh npm test
