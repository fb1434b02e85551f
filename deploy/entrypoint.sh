#!/bin/sh
# Container (and host) entrypoint: bring the database to the newest migration, then run the given command,
# gunicorn by default. A fresh database is migrated before the first request instead of answering 500s.
set -eu
cd "$(dirname "$0")/.."
python migrate.py
exec "$@"
