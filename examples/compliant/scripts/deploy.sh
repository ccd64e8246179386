#!/usr/bin/env bash
# Deploy a signed Koha image on the production host.
#   scripts/deploy.sh sha256:<digest>
# Refuses any image that cosign cannot verify against our publish workflow.
set -euo pipefail

IMAGE_REPO=ghcr.io/fjordby-library/koha
SIGNER=https://github.com/fjordby-library/koha-deploy/.github/workflows/publish.yml@refs/heads/main
ISSUER=https://token.actions.githubusercontent.com

digest="${1:-}"
if ! printf '%s' "$digest" | grep -Eq '^sha256:[0-9a-f]{64}$'; then
    echo "usage: $0 sha256:<64 hex digest>" >&2
    exit 64
fi

echo "Verifying the signature of ${IMAGE_REPO}@${digest}"
cosign verify "${IMAGE_REPO}@${digest}" \
    --certificate-identity "$SIGNER" \
    --certificate-oidc-issuer "$ISSUER" > /dev/null

cd /srv/koha
git pull --ff-only
export KOHA_DIGEST="$digest"
docker compose -f compose.yaml -f compose.prod.yaml pull koha
docker compose -f compose.yaml -f compose.prod.yaml up -d --wait
if [ -f .deployed-digest ]; then
    cp .deployed-digest .deployed-digest.previous
fi
echo "$digest" > .deployed-digest
echo "deployed ${IMAGE_REPO}@${digest}"
