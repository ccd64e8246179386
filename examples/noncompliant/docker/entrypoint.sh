#!/bin/sh
# Koha container entrypoint: writes koha-conf.xml from the environment, starts
# the Plack workers and runs Apache in the foreground (8080 OPAC, 8081 staff).
set -eu

: "${KOHA_INSTANCE:=library}"
conf="/etc/koha/sites/${KOHA_INSTANCE}/koha-conf.xml"
mkdir -p "$(dirname "$conf")"
sed -e "s|__KOHASITE__|${KOHA_INSTANCE}|g" \
    -e "s|__DB_HOST__|${KOHA_DB_HOST}|g" \
    -e "s|__DB_NAME__|${KOHA_DB_NAME}|g" \
    -e "s|__DB_USER__|${KOHA_DB_USER}|g" \
    -e "s|__DB_PASS__|${KOHA_DB_PASSWORD}|g" \
    -e "s|__MEMCACHED_SERVERS__|${MEMCACHED_SERVERS}|g" \
    -e "s|__MB_HOST__|${MB_HOST}|g" \
    -e "s|__MB_USER__|${MB_USER}|g" \
    -e "s|__MB_PASS__|${MB_PASS}|g" \
    /etc/koha/koha-conf-site.xml.in > "$conf"

if [ -n "${KOHA_ADMIN_PASS:-}" ]; then
    # first start: make sure the superlibrarian account exists
    koha-shell "$KOHA_INSTANCE" -c "perl /usr/share/koha/bin/devel/create_superlibrarian.pl \
        --userid admin --password '$KOHA_ADMIN_PASS' --cardnumber 0001 \
        --branchcode MAIN --categorycode S" || true
fi

koha-plack --start "$KOHA_INSTANCE"
exec apache2ctl -D FOREGROUND
