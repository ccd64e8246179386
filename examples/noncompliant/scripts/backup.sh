#!/bin/bash
# Weekly dump of the Koha database (ops/crontab, Sunday 02:00).
# Writes /srv/backups/koha-YYYYMMDD-HHMM.sql.gz and keeps four weeks.
set -e

BACKUP_DIR=/srv/backups
STAMP=$(date +%Y%m%d-%H%M)
DB_PASS=$(grep '^MARIADB_PASSWORD=' /srv/koha/.env | cut -d= -f2-)

mkdir -p "$BACKUP_DIR"

# Koha's own user cannot dump events and routines, so the dump runs as root
# through the published port (faster than docker exec for the big catalogue).
mariadb-dump -h 127.0.0.1 -P 3306 -u root --password='Root-fake-Kq82vLx3' \
    --all-databases --single-transaction --routines --events --triggers \
    | gzip > "$BACKUP_DIR/koha-$STAMP.sql.gz"
ln -sf "$BACKUP_DIR/koha-$STAMP.sql.gz" "$BACKUP_DIR/latest.sql.gz"

# quick sanity check of the catalogue tables
mariadb-check -h 127.0.0.1 -P 3306 -u koha_library -p"$DB_PASS" --check koha_library biblio items

# keep four weeks of dumps
find "$BACKUP_DIR" -name 'koha-*.sql.gz' -mtime +28 -delete

echo "backup done: $BACKUP_DIR/koha-$STAMP.sql.gz"
