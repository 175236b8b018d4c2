#!/usr/bin/env bash
# The integration tests run a real Prometheus and a real PostgreSQL on 127.0.0.1, and a headless
# Chromium. Install them from Debian's packages where they are missing (needs root and apt-get, as
# on CI machines).
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || missing+=(prometheus)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# Headless Chromium renders the HTML report in test/cli/html-report-browser.test.ts.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing for the integration tests: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "cannot install ${missing[*]}: run as root on Debian, or install them yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged services on install; the tests start their own on free ports.
for service in prometheus postgresql; do
  (command -v service >/dev/null && service "$service" stop) >/dev/null 2>&1 || true
done
