#!/bin/bash
# Restore a Koha dump made by backup.sh.
#   scripts/restore.sh /srv/backups/koha-20261101-0200.sql.gz
# RESTORE_DB_HOST points the restore at another server (the monthly drill
# restores into koha-test-db). Credentials come from /root/.my.cnf.
set -e

DUMP="${1:?usage: restore.sh DUMP.sql.gz}"
DB_HOST="${RESTORE_DB_HOST:-127.0.0.1}"

if [ ! -f "$DUMP" ]; then
    echo "no such dump: $DUMP" >&2
    exit 1
fi

if [ "$DB_HOST" = "127.0.0.1" ]; then
    echo "Stopping Koha before the restore"
    docker compose -f /srv/koha/compose.yaml stop koha
fi

echo "Restoring $DUMP into $DB_HOST"
gunzip -c "$DUMP" | mariadb -h "$DB_HOST" -P 3306 -u root

if [ "$DB_HOST" = "127.0.0.1" ]; then
    docker compose -f /srv/koha/compose.yaml start koha
    echo "Rebuild the search index: docker compose exec koha koha-elasticsearch --rebuild -d -v library"
fi
echo "restore done"
