#!/usr/bin/env bash
# Makes sure bubblewrap, the sandbox of Petrel's action containers, is installed: Debian's package when
# `bwrap` is missing. Without it containers still run, under a weaker isolation (see container/README.md),
# and the tests that need it are skipped.
set -euo pipefail

if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ensure-bubblewrap: bwrap is missing and only root can install it (apt-get install bubblewrap);" \
             "containers will run without a sandbox" >&2
        exit 0
    fi
    echo "ensure-bubblewrap: installing Debian's bubblewrap"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; then
        # A fresh machine may not have read the package lists yet.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap
    fi
fi
bwrap --version
