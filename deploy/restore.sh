#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into a NEW database, all or nothing.
#
#   deploy/restore.sh DUMP_FILE TARGET_DATABASE_URL
#
# TARGET_DATABASE_URL: postgresql+psycopg://user@host:5432/NEW_NAME. The database NEW_NAME must not exist yet:
# this script creates it, restores into it in one transaction and drops it again if anything fails, so it never
# overwrites a database and never leaves a half-restored one. Objects end up owned by the connecting user.
# Then point ASSESSMENT_DB_URL at it (and run `python -m assessment migrate` once if the backup is older than
# the code). PG_BIN may name the folder of the PostgreSQL client programs.
set -euo pipefail

usage() {
  echo "usage: $0 DUMP_FILE TARGET_DATABASE_URL   (the target database must not exist yet)" >&2
  exit 2
}
(($# == 2)) || usage
dump="$1" url="$2"
shown="$(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$url")"  # never print a password
[[ -f "$dump" && -r "$dump" ]] || { echo "$0: $dump: no such readable file" >&2; exit 2; }
case "$url" in
  postgresql://* | postgresql+psycopg://* | postgres://*) ;;
  *) echo "$0: $shown: not a PostgreSQL URL (postgresql+psycopg://user@host:5432/NEW_NAME)" >&2; exit 2 ;;
esac
[[ -n "${PG_BIN:-}" ]] && PATH="$PG_BIN:$PATH"
libpq_url="${url/+psycopg/}"  # libpq reads postgresql://…, without SQLAlchemy's driver name
server="${libpq_url%/*}" name="${libpq_url##*/}"
if [[ ! "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ || "$server" != *://* ]]; then
  echo "$0: $shown: end the URL with the new database's name (letters, digits, _), e.g. …:5432/assessment_restored" >&2
  exit 2
fi
if ! pg_restore --list "$dump" >/dev/null; then
  echo "$0: $dump: not a backup pg_restore can read (message above); nothing changed" >&2
  exit 1
fi

# createdb fails when the database exists: a restore never writes into a database that holds anything.
if ! createdb --maintenance-db="$server/postgres" "$name"; then
  echo "$0: cannot create database $name on ${shown%/*} (message above; it must not exist yet); nothing changed" >&2
  exit 1
fi
if ! pg_restore --exit-on-error --single-transaction --no-owner --no-privileges --dbname="$libpq_url" "$dump"; then
  # The restore failed: leave no half-restored database behind.
  dropdb --maintenance-db="$server/postgres" "$name" || echo "$0: could not remove $name either; drop it by hand" >&2
  echo "$0: restoring $dump into $name failed (message above); the new database was removed" >&2
  exit 1
fi
revision="$(psql --no-psqlrc --tuples-only --no-align --command="SELECT version_num FROM alembic_version" "$libpq_url")"
echo "$dump: restored into $shown (schema revision $revision)"
