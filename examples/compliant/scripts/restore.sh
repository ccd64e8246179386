#!/usr/bin/env bash
# Restore the Koha database from an encrypted backup set made by backup.sh.
#
#   restore.sh full   [--from DIR] [--dry-run] [--yes]
#   restore.sh pitr   --to 'YYYY-MM-DD hh:mm:ss' [--from DIR] [--dry-run] [--yes]
#   restore.sh verify [--from DIR]
#
# verify (or --dry-run) decrypts and checks the backup, prepares it and lists
# the binlogs a PITR would replay, then stops before touching any database.
# RESTORE_PROJECT names the compose project to restore into (default: koha);
# the weekly restore test uses a scratch project, koha-restoretest.
set -euo pipefail

BACKUP_ROOT=/srv/koha-backups
AGE_IDENTITY=/etc/koha-deploy/secrets/backup-age-identity.txt
DB_CNF=/run/secrets/mariadb_backup_cnf
TEXTFILE_DIR=/var/lib/node_exporter/textfile
PROJECT_DIR=/srv/koha
PROJECT="${RESTORE_PROJECT:-koha}"

usage() {
    sed -n '4,6p' "$0" >&2
    exit 64
}

MODE="${1:-}"
if [ $# -gt 0 ]; then shift; fi
FROM=""
TARGET=""
DRY_RUN=0
ASSUME_YES=0
while [ $# -gt 0 ]; do
    case "$1" in
        --from) FROM="$2"; shift 2 ;;
        --to) TARGET="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --yes) ASSUME_YES=1; shift ;;
        *) usage ;;
    esac
done

case "$MODE" in
    full) ;;
    pitr) if [ -z "$TARGET" ]; then usage; fi ;;
    verify) DRY_RUN=1 ;;
    *) usage ;;
esac

if [ -z "$FROM" ]; then
    FROM="$(find "$BACKUP_ROOT/full" -mindepth 1 -maxdepth 1 -type d | sort | tail -n 1)"
fi
WORK="$(mktemp -d /var/tmp/koha-restore.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "== checking $FROM"
(cd "$FROM" && sha256sum --check --quiet SHA256SUMS)

echo "== decrypting and preparing the full backup"
mkdir -p "$WORK/full" "$WORK/binlogs"
age --decrypt --identity "$AGE_IDENTITY" "$FROM/full.xb.zst.age" | zstd -dq | mbstream -x -C "$WORK/full"
mariadb-backup --prepare --target-dir="$WORK/full"
read -r START_FILE START_POS _ < "$WORK/full/mariadb_backup_binlog_info"
echo "backup ends at $START_FILE:$START_POS"

if [ "$MODE" = pitr ]; then
    echo "== collecting binlogs up to $TARGET"
    from_stamp="$(basename "$FROM")"
    for dir in "$FROM" "$BACKUP_ROOT"/binlogs/*; do
        if [ "$dir" = "$FROM" ] || [ "$(basename "$dir")" \> "$from_stamp" ]; then
            age --decrypt --identity "$AGE_IDENTITY" "$dir/binlogs.tar.zst.age" | zstd -dq | tar -C "$WORK/binlogs" -xf -
        fi
    done
    find "$WORK/binlogs" -name 'mariadb-bin.[0-9]*' | sort \
        | awk -v first="$START_FILE" '{ n = split($0, p, "/"); if (p[n] >= first) print }' > "$WORK/replay.list"
    echo "binlogs to replay:"
    cat "$WORK/replay.list"
fi

if [ "$DRY_RUN" -eq 1 ]; then
    echo "== dry run: backup verified, nothing restored"
    exit 0
fi
if [ "$ASSUME_YES" -ne 1 ]; then
    echo "refusing to replace the database of project '$PROJECT' without --yes" >&2
    exit 1
fi

echo "== restoring into project $PROJECT"
cd "$PROJECT_DIR"
docker compose -p "$PROJECT" stop koha db
docker compose -p "$PROJECT" run --rm --no-deps -v "$WORK/full:/backup:ro" --entrypoint bash db -c \
    'rm -rf /var/lib/mysql/* && mariadb-backup --copy-back --target-dir=/backup && chown -R mysql:mysql /var/lib/mysql'
docker compose -p "$PROJECT" up -d --wait db

if [ "$MODE" = pitr ]; then
    echo "== replaying binlogs until $TARGET"
    # shellcheck disable=SC2046  # one argument per binlog file
    mariadb-binlog --start-position="$START_POS" --stop-datetime="$TARGET" $(cat "$WORK/replay.list") \
        | docker compose -p "$PROJECT" exec -T db mariadb --defaults-extra-file="$DB_CNF" --binary-mode
fi

docker compose -p "$PROJECT" up -d --wait koha
echo "== restore finished: $MODE from $FROM"

if [ "$PROJECT" != koha ]; then
    metric="koha_restore_test_last_success_timestamp_seconds{kind=\"$MODE\"} $(date +%s)"
    printf '%s\n' "$metric" > "$TEXTFILE_DIR/koha_restore_test.prom.tmp"
    mv "$TEXTFILE_DIR/koha_restore_test.prom.tmp" "$TEXTFILE_DIR/koha_restore_test.prom"
fi
