#!/usr/bin/env bash
# scripts/loopback-only.sh CMD [ARG...]
# Runs CMD in a network namespace of its own whose only interface is loopback,
# with a Redis of its own on 127.0.0.1:6379 (no persistence). Nothing a test
# does there can reach another machine: the probe tests, which follow DNS
# answers to HTTPS servers, refuse to run anywhere else.
# As root it uses `unshare -n`; otherwise an unprivileged user namespace
# (`unshare -rn`) where the kernel allows one.
set -euo pipefail

say() { printf 'loopback-only: %s\n' "$*" >&2; }

if [[ "${EXOSCOPE_IN_NETNS:-}" != 1 ]]; then
  if ((EUID == 0)); then ns=(unshare -n); else ns=(unshare -rn); fi
  if ! "${ns[@]}" true 2>/dev/null; then
    say "cannot make a network namespace (${ns[*]}): run as root, or allow unprivileged user namespaces"
    exit 1
  fi
  EXOSCOPE_IN_NETNS=1 exec "${ns[@]}" bash "${BASH_SOURCE[0]}" "$@"
fi

# inside: bring loopback up (a new namespace starts with it down)
ip link set lo up

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
redis_dir="$(mktemp -d)"
redis-server --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no \
  --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$redis_dir"' EXIT
for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
redis_up || { say "redis-server did not start: $(tail -3 "$redis_dir/redis.log")"; exit 1; }

"$@"
