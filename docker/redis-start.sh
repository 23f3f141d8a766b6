#!/bin/sh
# Starts redis-server with the options given and the password from
# REDIS_PASSWORD, which reaches Redis on its standard input (a config read
# from `-`), so that no command line shows it (`ps`, /proc/*/cmdline).
# `exec` makes redis-server this process: it gets the signals, and no shell
# stays behind. docker-compose.yml runs it as the Redis container's entry
# point, as the image's `redis` user.
set -eu
if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo 'redis-start: set REDIS_PASSWORD (e.g. openssl rand -hex 24)' >&2
  exit 1
fi
case "$REDIS_PASSWORD" in
  *[!A-Za-z0-9._~-]*)
    # Anything else would need quoting in the config and escaping in the
    # workers' redis:// URL.
    echo 'redis-start: REDIS_PASSWORD may hold only letters, digits and . _ ~ - (e.g. openssl rand -hex 24)' >&2
    exit 1
    ;;
esac
exec redis-server "$@" - <<CONFIG
requirepass $REDIS_PASSWORD
CONFIG
