#!/bin/sh
# Deploys the build in ./build to /srv/shop as a velin transaction: unless the smoke test
# passes and we commit within 10 minutes, the previous version comes back by itself.
set -eu
VELIN="velin --config /srv/shop/velin.toml"
VERSION="${CI_COMMIT_TAG:-$(git rev-parse --short HEAD)}"

$VELIN rollback begin --timeout 10m --reason "deploy $VERSION by ${CI_JOB_ID:-hand}"
rsync -a --delete build/bin/ /srv/shop/bin/
$VELIN rollback create-version "$VERSION - CI build ${CI_PIPELINE_ID:-}"
if $VELIN rollback to-version "$VERSION" && ./smoke-test.sh https://shop.example.com; then
  $VELIN rollback commit
else
  $VELIN rollback rollback --reason "smoke test failed"
  exit 1
fi
