#!/usr/bin/env bash
# Installs Debian's chromium for the headless page test of the postmortem service
# (tests/tests/e2e/postmortem_page.rs). Idempotent: does nothing when /usr/bin/chromium exists.
# Needs root (or sudo) and Debian's package archive; when neither is available it says so
# and exits 0, and the page test then skips locally and fails in CI with a clear message.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "install-chromium: not root and no sudo; skipping (the page test needs /usr/bin/chromium)" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null; then
    echo "install-chromium: apt-get not found; install chromium by hand" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'installed')"
