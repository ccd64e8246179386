#!/bin/sh
# Koha container entrypoint: reads the secrets compose mounts under
# /run/secrets, writes koha-conf.xml, starts the Plack workers and runs Apache
# in the foreground (8080 OPAC, 8081 staff interface).
set -eu

: "${KOHA_INSTANCE:=library}"
KOHA_DB_PASSWORD="$(cat "${KOHA_DB_PASSWORD_FILE:?}")"
MB_PASS="$(cat "${MB_PASS_FILE:?}")"
SMTP_PASSWORD="$(cat "${SMTP_PASSWORD_FILE:?}")"

conf="/etc/koha/sites/${KOHA_INSTANCE}/koha-conf.xml"
umask 077
sed -e "s|__KOHASITE__|${KOHA_INSTANCE}|g" \
    -e "s|__DB_HOST__|${KOHA_DB_HOST}|g" \
    -e "s|__DB_NAME__|${KOHA_DB_NAME}|g" \
    -e "s|__DB_USER__|${KOHA_DB_USER}|g" \
    -e "s|__DB_PASS__|${KOHA_DB_PASSWORD}|g" \
    -e "s|__MEMCACHED_SERVERS__|${MEMCACHED_SERVERS}|g" \
    -e "s|__MB_HOST__|${MB_HOST}|g" \
    -e "s|__MB_USER__|${MB_USER}|g" \
    -e "s|__MB_PASS__|${MB_PASS}|g" \
    -e "s|__SMTP_HOST__|${SMTP_HOST}|g" \
    -e "s|__SMTP_USER__|${SMTP_USER}|g" \
    -e "s|__SMTP_PASS__|${SMTP_PASSWORD}|g" \
    /etc/koha/koha-conf-site.xml.in > "$conf"
unset KOHA_DB_PASSWORD MB_PASS SMTP_PASSWORD

# The superlibrarian is created on the first start; the helper reads the
# password from its secret file, so it never appears on a command line.
if [ -n "${KOHA_ADMIN_PASS_FILE:-}" ]; then
    koha-shell "$KOHA_INSTANCE" -c "perl /usr/local/lib/koha-tools/create-admin.pl --password-file '$KOHA_ADMIN_PASS_FILE'"
fi

koha-plack --start "$KOHA_INSTANCE"
exec apache2ctl -D FOREGROUND
