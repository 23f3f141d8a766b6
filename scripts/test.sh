#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with Node >= 20:
#   npm run test:ci        (what .ci/run calls)
# Installs the Debian packages the tests use when they are missing (Knot and
# Unbound serve the generated portfolio, Redis carries the distributed
# tests, Chromium renders the HTML report), starts Redis on 127.0.0.1:6379
# when nothing answers there (and stops it again at the end), installs the
# npm dependencies when node_modules is missing or older than the lock file,
# then runs `npm test` (type-check, lint, build, every test layer).
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
  redis-server:redis-server chromium:chromium; do
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

# Redis on 127.0.0.1:6379, no persistence, when nothing answers there
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! redis_up; then
  redis_dir="$(mktemp -d)"
  say "starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
  redis_pid=$!
  trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$redis_dir"' EXIT
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || { say "redis-server did not start: $(tail -3 "$redis_dir/redis.log")"; exit 1; }
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm test
