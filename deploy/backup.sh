#!/usr/bin/env bash
# Back up the shared PostgreSQL database in pg_dump's custom format (compressed; pg_restore can restore all of
# it or single tables). Safe while the replicas serve users: pg_dump reads one consistent snapshot.
#
#   deploy/backup.sh [DATABASE_URL] [OUT_FILE]
#
# DATABASE_URL: postgresql+psycopg://user@host:5432/assessment (default: ASSESSMENT_DB_URL); a password is best
# kept in ~/.pgpass rather than in the URL. OUT_FILE: default backups/assessment-YYYYmmdd-HHMMSS.dump.
# The dump is written beside OUT_FILE and renamed only once pg_dump succeeded and pg_restore can read it back,
# so a failed backup never leaves a file that looks like a good one. PG_BIN may name the folder of the
# PostgreSQL client programs (the same major version as the server, or newer).
set -euo pipefail

usage() {
  echo "usage: $0 [DATABASE_URL] [OUT_FILE]   (DATABASE_URL defaults to ASSESSMENT_DB_URL)" >&2
  exit 2
}
(($# <= 2)) || usage
url="${1:-${ASSESSMENT_DB_URL:-}}"
[[ -n "$url" ]] || usage
shown="$(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$url")"  # never print a password
case "$url" in
  postgresql://* | postgresql+psycopg://* | postgres://*) ;;
  *) echo "$0: $shown: not a PostgreSQL URL (postgresql+psycopg://user@host:5432/db); SQLite files are backed up by copying them with the app stopped" >&2
     exit 2 ;;
esac
[[ -n "${PG_BIN:-}" ]] && PATH="$PG_BIN:$PATH"
libpq_url="${url/+psycopg/}"  # libpq reads postgresql://…, without SQLAlchemy's driver name

out="${2:-backups/assessment-$(date +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$out")"
partial="$out.partial"
trap 'rm -f "$partial"' EXIT

if ! pg_dump --format=custom --compress=6 --file="$partial" "$libpq_url"; then
  echo "$0: pg_dump of $shown failed (message above); no backup written" >&2
  exit 1
fi
if ! pg_restore --list "$partial" >/dev/null; then
  echo "$0: the dump of $shown cannot be read back; no backup written" >&2
  exit 1
fi
mv "$partial" "$out"
echo "$out: backup of $shown ($(wc -c <"$out") bytes)"
