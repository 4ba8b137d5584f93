# shellcheck shell=bash
# Shared helpers for scripts/setup.sh, scripts/test.sh and .ci/run (sourced, not run).

# ensure_packages CHECK:PACKAGE ...
#   CHECK is a command name or an absolute path; `py:MODULE=PACKAGE` checks that python3
#   imports MODULE; `static:CMD=PACKAGE` that CMD exists and is statically linked.
#   Installs the packages whose check fails, with apt-get; apt-get update only then.
ensure_packages() {
    local missing=() spec check pkg
    for spec in "$@"; do
        check=${spec%%:*}
        pkg=${spec#*:}
        if [[ $check == py ]]; then
            check=${pkg%%=*}
            pkg=${pkg#*=}
            python3 -c "import $check" >/dev/null 2>&1 && continue
        elif [[ $check == static ]]; then # a statically linked command
            check=${pkg%%=*}
            pkg=${pkg#*=}
            local bin
            bin=$(command -v "$check" 2>/dev/null) && ! ldd "$bin" >/dev/null 2>&1 && continue
        elif [[ $check == /* ]]; then
            [[ -x $check ]] && continue
        else
            command -v "$check" >/dev/null 2>&1 && continue
        fi
        [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing packages: ${missing[*]}; run this as root (or install them)" >&2
        return 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing packages: ${missing[*]}; no apt-get here, install them by hand" >&2
        return 1
    fi
    echo "installing: ${missing[*]}"
    # Keep package scripts from starting services (docker.io would start a system
    # dockerd): a policy-rc.d that refuses, only for this install, only if none exists.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/nsx-apt.log 2>&1; then
        apt-get update -qq >>/tmp/nsx-apt.log 2>&1 || true
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/nsx-apt.log 2>&1 ||
            rc=$?
    fi
    ((made_policy)) && rm -f "$policy"
    if ((rc)); then
        tail -n 20 /tmp/nsx-apt.log >&2
        echo "apt-get install ${missing[*]} failed (log: /tmp/nsx-apt.log)" >&2
        return 1
    fi
}

# ensure_venv EXTRAS: .venv with `pip install -e .[EXTRAS]`, skipped when nothing changed.
ensure_venv() {
    local extras=${1:-} spec=. stamp=.venv/.nsx-installed want
    [[ -n $extras ]] && spec=".[$extras]"
    if [[ ! -x .venv/bin/python ]]; then
        python3 -m venv .venv
    fi
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $spec"
    if [[ -r $stamp ]] && grep -qxF "$want" "$stamp"; then
        compile_package
        return 0
    fi
    echo "installing nsexplorer ($spec) into .venv"
    local log=/tmp/nsx-pip.log
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >"$log" 2>&1 ||
        true
    if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" >>"$log" 2>&1
    then
        tail -n 30 "$log" >&2
        echo "pip install -e '$spec' failed (log: $log)" >&2
        return 1
    fi
    # a stamp per extras set: the test extras include the runtime ones
    {
        [[ -r $stamp ]] && cat "$stamp"
        echo "$want"
        [[ $spec != . ]] && echo "${want% *} ."
        true
    } | sort -u >"$stamp.new"
    mv "$stamp.new" "$stamp"
    compile_package
}

# compile_package: bytecode for nsexplorer's own modules. An editable install has none
# and, where PYTHONDONTWRITEBYTECODE is set, Python never caches it: every launch would
# compile ~135 modules from source first (~0.1 s of the first frame). Up-to-date files
# are skipped, so this is cheap on every call; a failure only costs that speed.
compile_package() {
    .venv/bin/python -m compileall -q nsexplorer >/dev/null 2>&1 || true
}

RUNTIME_PACKAGES=(ip:iproute2 nsenter:util-linux lsns:util-linux "py:ensurepip=python3-venv")
TEST_PACKAGES=(
    "${RUNTIME_PACKAGES[@]}"
    /usr/sbin/dockerd:docker.io /usr/bin/docker:docker.io
    static:busybox=busybox-static tmux:tmux brctl:bridge-utils setpriv:util-linux
    /usr/sbin/iptables:iptables flock:util-linux
    tcpdump:tcpdump /usr/share/i18n/locales/en_US:locales
)
