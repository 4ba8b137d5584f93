#!/usr/bin/env bash
# Install nsexplorer into .venv (and the few system packages it needs at run time).
#   bash scripts/setup.sh && .venv/bin/nsexplorer
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_venv ""
echo "nsexplorer $(.venv/bin/nsexplorer --version | cut -d' ' -f2) is ready: .venv/bin/nsexplorer"
