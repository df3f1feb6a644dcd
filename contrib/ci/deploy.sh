#!/bin/sh
# Deploys the build in ./build to /srv/shop as a velin transaction: unless the smoke test
# passes and we commit within 10 minutes, the previous version comes back by itself. A step
# that fails, or a cancelled job (SIGINT, SIGTERM, SIGHUP), rolls back at once, so the
# transaction does not stay open (and block the next deploy) until its timeout. Run again for
# the same version (a CI retry), it replaces the version the failed attempt stored; when that
# version is live already (the attempt before went through), it says so and changes nothing.
set -eu
VELIN="velin --config /srv/shop/velin.toml"
VERSION="${CI_COMMIT_TAG:-$(git rev-parse --short HEAD)}"

# LC_ALL=C: the status lines in English, whatever the runner's language.
if [ "$(LC_ALL=C $VELIN rollback status)" = "Current: $VERSION
No open transaction" ]; then
  echo "version $VERSION is live already; nothing to deploy"
  exit 0
fi
fail() {
  trap - INT TERM HUP
  $VELIN rollback rollback --reason "$1"
  exit 1
}
$VELIN rollback begin --timeout 10m --reason "deploy $VERSION by ${CI_JOB_ID:-hand}"
trap 'fail "deploy interrupted"' INT TERM HUP
rsync -a --delete build/bin/ /srv/shop/bin/ || fail "copying the build failed"
$VELIN rollback create-version "$VERSION - CI build ${CI_PIPELINE_ID:-}" --replace ||
  fail "storing version $VERSION failed"
if $VELIN rollback to-version "$VERSION" && ./smoke-test.sh https://shop.example.com; then
  $VELIN rollback commit
else
  fail "smoke test failed"
fi
