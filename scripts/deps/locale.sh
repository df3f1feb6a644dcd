#!/usr/bin/env bash
# A German locale for the tests of a PostgreSQL server that speaks German (lc_messages): the
# server's messages are matched by what they are, not by their English words. Made before any
# test server starts (a running server does not see a locale made after it). Needs root; skipped
# otherwise (those tests then skip too).
set -euo pipefail
if locale -a 2>/dev/null | grep -qix 'de_DE\.utf8'; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "locale.sh: not root, de_DE.UTF-8 not made (the German-server tests will skip)"
  exit 0
fi
localedef -i de_DE -f UTF-8 de_DE.UTF-8 ||
  echo "locale.sh: localedef failed: the German-server tests will skip"
