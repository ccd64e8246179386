#!/bin/bash
# Manual deploy on the Koha host: pulls the newest images and restarts.
#   ssh koha-prod /srv/koha/scripts/deploy.sh
set -e

cd /srv/koha
git pull --ff-only
docker compose -f compose.yaml -f compose.prod.yaml pull
docker compose -f compose.yaml -f compose.prod.yaml up -d --remove-orphans
docker image prune -f
