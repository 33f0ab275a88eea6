#!/usr/bin/env bash
# The browser the web view's tests drive: Debian's chromium and its chromedriver, installed with apt
# when missing (as root, e.g. on CI). Never fails the caller: without a browser the browser tests
# skip and say why. Set KLIPING_NO_BROWSER_INSTALL=1 to leave the system alone.
set -uo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "${KLIPING_NO_BROWSER_INSTALL:-}" = "1" ] || [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    echo "kliping: no chromium/chromedriver and no way to install them here: browser tests will skip" >&2
    exit 0
fi
echo "kliping: installing chromium and chromium-driver for the web view's browser tests" >&2
if ! apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
        || echo "kliping: installing chromium failed: browser tests will skip" >&2
fi
exit 0
