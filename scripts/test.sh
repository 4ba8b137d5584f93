#!/usr/bin/env bash
# Install everything the tests need, then run every check and the whole test suite.
#   bash scripts/test.sh [extra pytest args]
# Runs as root on Debian/Ubuntu. Starts the test Docker daemon (scripts/testbed.sh) if
# it is not running, and stops it at the end only if it started it. Exits non-zero if
# any check failed; pytest collecting no test counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_packages "${TEST_PACKAGES[@]}" || exit 1
ensure_venv test || exit 1

owned_testbed=0
# A lab the suite left up (pytest killed): remove it, under the lab lock, which the
# caller may already hold for us (.ci/run passes its descriptor as NSXLAB_LOCK_FD).
lab_down() {
    if ! [[ ${NSXLAB_LOCK_FD:-} =~ ^[0-9]+$ ]] || ! flock -n "$NSXLAB_LOCK_FD" 2>/dev/null; then
        exec 8>>/run/nsxlab.lock
        flock -w 900 8 || return 1
    fi
    .venv/bin/nsexplorer lab down
}
cleanup() {
    if [[ -x .venv/bin/nsexplorer && -d /run/nsxlab ]]; then
        lab_down >/dev/null 2>&1 || true
    fi
    if ((owned_testbed)); then
        bash scripts/testbed.sh stop >/dev/null 2>&1 || echo "test.sh: testbed stop failed" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! bash scripts/testbed.sh status >/dev/null 2>&1; then
    bash scripts/testbed.sh start || exit 1
    owned_testbed=1
    # this run owns the daemon, so its crash-recovery test may kill and restart it
    export NSX_TESTBED_DISRUPT=1
fi
export DOCKER_HOST=${DOCKER_HOST:-unix:///run/nsx-testbed/docker.sock}

failed=()
check() {
    local name=$1
    shift
    echo "==> $name"
    if ! "$@"; then
        failed+=("$name")
    fi
}
check "ruff check" .venv/bin/ruff check .
check "ruff format --check" .venv/bin/ruff format --check .
check "mypy" .venv/bin/mypy
check "lint-imports" .venv/bin/lint-imports

echo "==> pytest"
.venv/bin/pytest -ra tests/ "$@"
rc=$?
if ((rc == 5)); then
    echo "test.sh: pytest collected no tests, which counts as a failure"
    failed+=("pytest (no tests)")
elif ((rc != 0)); then
    failed+=("pytest")
fi

if ((${#failed[@]})); then
    echo "test.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "test.sh: all checks passed"
