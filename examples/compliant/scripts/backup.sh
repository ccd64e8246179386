#!/usr/bin/env bash
# Koha database backup, 3-2-1 style (ops/crontab):
#   backup.sh                 nightly: full physical backup + binary logs
#   backup.sh --binlogs-only  every 10 minutes: binary logs only (RPO 15m)
# Everything is encrypted with age before it leaves the db container's pipe,
# checksummed, and copied offsite with rclone. Credentials come from the
# backup user's option file (a compose secret), never from the command line.
set -euo pipefail

PROJECT_DIR=/srv/koha
BACKUP_ROOT=/srv/koha-backups
OFFSITE=offsite-s3:fjordby-koha-backups
AGE_RECIPIENTS=/etc/koha-deploy/backup-recipients.txt
DB_CNF=/run/secrets/mariadb_backup_cnf
TEXTFILE_DIR=/var/lib/node_exporter/textfile

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
KIND=full
BINLOG_FILTER=""
if [ "${1:-}" = "--binlogs-only" ]; then
    KIND=binlogs
    # the binlogs closed or written since the previous run, with some overlap
    BINLOG_FILTER="-mmin -30"
fi
DEST="$BACKUP_ROOT/$KIND/$STAMP"

cd "$PROJECT_DIR"
mkdir -p "$DEST"

if [ "$KIND" = full ]; then
    echo "[$STAMP] full backup"
    docker compose exec -T db mariadb-backup --defaults-extra-file="$DB_CNF" \
            --backup --stream=xbstream --target-dir=/tmp \
        | zstd -q -T0 \
        | age --encrypt --recipients-file "$AGE_RECIPIENTS" > "$DEST/full.xb.zst.age"
fi

echo "[$STAMP] binary logs"
docker compose exec -T db mariadb --defaults-extra-file="$DB_CNF" -e 'FLUSH BINARY LOGS'
# shellcheck disable=SC2086  # BINLOG_FILTER is a list of find options
binlogs="$(docker compose exec -T db find /var/lib/mysql-binlog -name 'mariadb-bin.*' $BINLOG_FILTER -printf '%P\n')"
# shellcheck disable=SC2086  # one word per binlog file name
docker compose exec -T db tar -C /var/lib/mysql-binlog -cf - $binlogs \
    | zstd -q -T0 \
    | age --encrypt --recipients-file "$AGE_RECIPIENTS" > "$DEST/binlogs.tar.zst.age"

(cd "$DEST" && sha256sum -- *.age > SHA256SUMS)

echo "[$STAMP] offsite copy"
rclone copy --immutable "$DEST" "$OFFSITE/$KIND/$STAMP"
rclone check --one-way "$DEST" "$OFFSITE/$KIND/$STAMP"

# local copies: 7 days (offsite: 35 days, bucket lifecycle rule)
find "$BACKUP_ROOT/$KIND" -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} +

# picked up by node-exporter's textfile collector for the BackupFailed alert
metric="koha_backup_last_success_timestamp_seconds{kind=\"$KIND\"} $(date +%s)"
printf '%s\n' "$metric" > "$TEXTFILE_DIR/koha_backup_$KIND.prom.tmp"
mv "$TEXTFILE_DIR/koha_backup_$KIND.prom.tmp" "$TEXTFILE_DIR/koha_backup_$KIND.prom"
echo "[$STAMP] done: $DEST"
