#!/usr/bin/env bash
# The test Docker daemon: real, isolated, safe.
#
#   scripts/testbed.sh start          start it (idempotent; also recovers after a crash)
#   scripts/testbed.sh stop [--purge] stop what start started; --purge also drops its data
#   scripts/testbed.sh status         exit 0 when running, 3 when not
#   scripts/testbed.sh env            print `export DOCKER_HOST=...`
#
# Everything lives at fixed places that tests and teammates rely on:
#   socket      unix:///run/nsx-testbed/docker.sock   (DOCKER_HOST)
#   state dir   /run/nsx-testbed (pidfile docker.pid, log dockerd.log, daemon.json)
#   exec-root   /run/nsx-testbed/exec                 (netns files: exec/netns/<12 hex>)
#   data-root   /var/lib/nsx-testbed                  (vfs storage; kept unless --purge)
#   containerd  started by dockerd itself, namespace nsx-testbed, under exec-root
#   bridge      nsxtb0 10.213.0.1/24 (pre-created, passed with -b; never --bridge=none)
#   firewall    when the host filters bridged traffic (br_netfilter on and a FORWARD chain
#               that is not an empty ACCEPT, as on any Docker host), one rule per family:
#               FORWARD -i nsxtb0 -o nsxtb0 -m comment --comment nsx-testbed -j ACCEPT,
#               added by start, removed by stop; no other chain or policy is touched
#   cgroups     parent /nsx-testbed (so a crashed run's containers can be found)
#   image       nsx-busybox:test (docker import of a busybox-static rootfs)
#
# The daemon runs inside a private mount namespace (unshare --mount --propagation
# private), so its netns bind mounts are invisible from the host's mount table: from the
# host, /run/nsx-testbed/exec/netns/<id> is a 0-byte file (the seed article's step 6).
# No iptables, no forwarding, no masquerading, no userland proxy: nothing leaves the host.
#
# NEVER let this daemon delete the host's docker0. dockerd 20.10 (moby v20.10.24,
# daemon/daemon_unix.go, initNetworkController) does this at every start:
#     if n, err := controller.NetworkByName("bridge"); err == nil {   // kept in data-root
#         n.Delete()
#         if len(DefaultAddressPools) > 0 && !LiveRestoreEnabled {
#             removeDefaultBridgeInterface()
#         }
#     }
#     if !DisableBridge { initBridgeDriver(...) } else { removeDefaultBridgeInterface() }
# and removeDefaultBridgeInterface() deletes the link literally named "docker0" in the
# daemon's network namespace (the host's), whatever -b says. The "bridge" network is
# stored in the data-root at every run, so with a kept data-root any start with
# --default-address-pool (or "default-address-pools" in the config file) deletes the
# host's docker0, and so does --bridge=none (DisableBridge) on every start.
# guard_dockerd_args refuses both, in every spelling, and a missing --config-file (which
# would make dockerd read the host's /etc/docker/daemon.json). The test daemon's user
# networks take explicit subnets instead of a default pool (the lab: 10.216.0.0/24).
#
# This file can be sourced (for tests): it then only defines its variables and functions.
set -euo pipefail

STATE_DIR=/run/nsx-testbed
SOCK="$STATE_DIR/docker.sock"
DOCKER_HOST_URL="unix://$SOCK"
EXEC_ROOT="$STATE_DIR/exec"
PIDFILE="$STATE_DIR/docker.pid"
LOG="$STATE_DIR/dockerd.log"
CONFIG="$STATE_DIR/daemon.json"
DATA_ROOT=/var/lib/nsx-testbed
CTR_NS=nsx-testbed
CGROUP_PARENT=nsx-testbed
BRIDGE=nsxtb0
BRIDGE_ADDR=10.213.0.1/24
FW_COMMENT=nsx-testbed
IMAGE=nsx-busybox:test
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker # Debian's client (a newer one may shadow it on PATH)
START_TIMEOUT=${NSX_TESTBED_START_TIMEOUT:-90}

say() { printf 'testbed: %s\n' "$*"; }
die() {
    printf 'testbed: error: %s\n' "$*" >&2
    exit 1
}

dk() { DOCKER_HOST="$DOCKER_HOST_URL" "$DOCKER" "$@"; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (it creates a bridge and starts dockerd)"
}

need_tools() {
    local missing=()
    [[ -x $DOCKERD ]] || missing+=("$DOCKERD (apt-get install docker.io)")
    [[ -x $DOCKER ]] || missing+=("$DOCKER (apt-get install docker.io)")
    command -v unshare >/dev/null || missing+=("unshare (apt-get install util-linux)")
    command -v ip >/dev/null || missing+=("ip (apt-get install iproute2)")
    if ((${#missing[@]})); then
        die "missing: ${missing[*]}"
    fi
}

# PID from our pidfile, only if that process is alive and really is our dockerd.
daemon_pid() {
    local pid
    [[ -r $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    is_our_dockerd "$pid" || return 1
    echo "$pid"
}

is_our_dockerd() {
    local pid=$1 cmd
    [[ -r /proc/$pid/cmdline ]] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *dockerd* && $cmd == *"$SOCK"* ]]
}

responding() {
    timeout 10 "$DOCKER" -H "$DOCKER_HOST_URL" version --format '{{.Server.Version}}' \
        >/dev/null 2>&1
}

# Processes this testbed started that could survive a crash of dockerd: our dockerd,
# its containerd and shims (their command lines name our state dir), and the
# processes of our containers (cgroup parent /nsx-testbed). Nothing else matches.
leftover_pids() {
    local p cmd exe
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
        case ${exe##*/} in
        dockerd | containerd | containerd-shim* | runc) ;;
        *) continue ;;
        esac
        cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
        [[ $cmd == *"$STATE_DIR/"* || $cmd == *" $CTR_NS "* ]] && echo "$p"
    done
    local procs
    for procs in /sys/fs/cgroup/pids/"$CGROUP_PARENT"/*/cgroup.procs \
        /sys/fs/cgroup/"$CGROUP_PARENT"/*/cgroup.procs \
        /sys/fs/cgroup/unified/"$CGROUP_PARENT"/*/cgroup.procs; do
        [[ -r $procs ]] && cat "$procs"
    done
    return 0
}

kill_leftovers() {
    local pids
    pids=$(leftover_pids | sort -un)
    [[ -z $pids ]] && return 0
    say "killing leftovers of an earlier run: $(echo $pids)"
    # Crash leftovers only (our shims, our containers' processes, our containerd):
    # SIGKILL, since a container's PID 1 ignores SIGTERM.
    local i
    for i in $(seq 1 50); do
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
        pids=$(leftover_pids | sort -un)
        [[ -z $pids ]] && return 0
    done
    say "warning: still alive after SIGKILL: $(echo $pids)"
}

remove_empty_cgroups() {
    local d
    for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name "$CGROUP_PARENT" 2>/dev/null); do
        [[ -d $d ]] || continue
        find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "$d" 2>/dev/null || true
    done
}

# Bridges of user-defined networks that survived a crash: named br-<12 hex of a network
# id that our daemon's own network store knows about> (or whatever name their creator
# gave with com.docker.network.bridge.name; those are the creator's to remove).
remove_stale_network_bridges() {
    local db="$DATA_ROOT/network/files/local-kv.db" id name
    [[ -r $db ]] || return 0
    for id in $(grep -aoE 'network/v1\.0/network/[0-9a-f]{64}' "$db" 2>/dev/null |
        sed 's#.*/##' | sort -u); do
        name="br-${id:0:12}"
        if ip -o link show dev "$name" type bridge >/dev/null 2>&1; then
            ip link del dev "$name" 2>/dev/null && say "removed stale bridge $name"
        fi
    done
    return 0
}

ensure_bridge() {
    if ! ip link show dev "$BRIDGE" >/dev/null 2>&1; then
        ip link add name "$BRIDGE" type bridge
    fi
    if ! ip -4 -o addr show dev "$BRIDGE" | grep -q " ${BRIDGE_ADDR%/*}/"; then
        ip addr add "$BRIDGE_ADDR" dev "$BRIDGE"
    fi
    ip link set dev "$BRIDGE" up
}

remove_bridge() {
    if ip link show dev "$BRIDGE" >/dev/null 2>&1; then
        ip link del dev "$BRIDGE"
    fi
}

make_image() {
    if dk image inspect "$IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local bb
    bb=$(command -v busybox || true)
    [[ -n $bb ]] || die "busybox not found (apt-get install busybox-static)"
    if ldd "$bb" >/dev/null 2>&1; then
        die "$bb is dynamically linked; install busybox-static"
    fi
    local root
    root=$(mktemp -d /tmp/nsx-testbed-rootfs.XXXXXX)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
    cp "$bb" "$root/bin/busybox"
    local applet
    for applet in sh ip sleep ls cat ifconfig echo true ps ping hostname; do
        ln -s busybox "$root/bin/$applet"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    tar -C "$root" -c . | dk import --change 'CMD ["sh"]' --change 'ENV PATH=/bin' - "$IMAGE" \
        >/dev/null
    rm -rf "$root"
    say "image $IMAGE imported"
}

# The daemon's whole command line, into the array named $1 (one place, checked by the
# guard below and by the tests).
dockerd_args() {
    local -n _out=$1
    _out=(
        --config-file "$CONFIG"
        -H "$DOCKER_HOST_URL"
        --data-root "$DATA_ROOT"
        --exec-root "$EXEC_ROOT"
        --pidfile "$PIDFILE"
        --containerd-namespace "$CTR_NS"
        --containerd-plugins-namespace "$CTR_NS-plugins"
        --storage-driver vfs
        -b "$BRIDGE"
        --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false
        --cgroup-parent "$CGROUP_PARENT"
        --log-level warn
    )
}

# Its config file: only the trust key's place (else dockerd creates /etc/docker/key.json).
write_config() {
    printf '{"deprecated-key-path": "%s/key.json"}\n' "$DATA_ROOT" >"$CONFIG"
}

# Refuse any dockerd argument that reaches removeDefaultBridgeInterface() (see the top of
# this file): a default address pool, a disabled bridge, no bridge of our own, or no
# config file of our own. Returns 1 with a reason on stderr.
guard_dockerd_args() {
    local a next bridge="" config="" i=0 args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        a=${args[i]}
        next=${args[i + 1]-}
        case $a in
        --default-address-pool | --default-address-pool=*)
            echo "testbed: guard: $a would make dockerd delete the host's docker0" \
                "(stale bridge network + default address pools)" >&2
            return 1
            ;;
        -b | --bridge) bridge=$next ;;
        -b=* | --bridge=*) bridge=${a#*=} ;;
        -b?*) bridge=${a#-b} ;;
        --config-file) config=$next ;;
        --config-file=*) config=${a#*=} ;;
        --live-restore | --live-restore=*)
            # harmless for docker0, but keeps crashed containers: not ours to allow
            echo "testbed: guard: $a is not allowed for the test daemon" >&2
            return 1
            ;;
        esac
    done
    if [[ $bridge == none ]]; then
        echo "testbed: guard: --bridge=none would make dockerd delete the host's docker0" >&2
        return 1
    fi
    if [[ $bridge != "$BRIDGE" ]]; then
        echo "testbed: guard: the daemon must use its own bridge (-b $BRIDGE), not '${bridge}'" >&2
        return 1
    fi
    if [[ -z $config ]]; then
        echo "testbed: guard: no --config-file: dockerd would read /etc/docker/daemon.json" >&2
        return 1
    fi
    return 0
}

# The same for the config file: no "default-address-pools", no "bridge" at all (ours is
# given with -b), no "live-restore".
guard_dockerd_config() {
    local file=$1
    [[ -r $file ]] || {
        echo "testbed: guard: config file $file is missing" >&2
        return 1
    }
    if grep -qE '"(default-address-pools|bridge|live-restore)"' "$file"; then
        echo "testbed: guard: $file sets default-address-pools, bridge or live-restore," \
            "which could make dockerd delete the host's docker0" >&2
        return 1
    fi
    return 0
}

# ---- firewall: let nsxtb0's own ports talk when the host filters bridged traffic

# The one rule, into the array named $1.
firewall_rule() {
    local -n _rule=$1
    _rule=(-i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$FW_COMMENT" -j ACCEPT)
}

# firewall_needed TOOL SYSCTL: bridged packets go through TOOL's FORWARD chain
# (br_netfilter's net.bridge.SYSCTL is 1) and that chain may drop them (its policy is
# not ACCEPT, or it has rules, as Docker's DOCKER-USER and isolation chains are; the
# project's own accept rules, this one and the lab's, do not count).
firewall_needed() {
    local tool=$1 sysctl=/proc/sys/net/bridge/$2 rules
    command -v "$tool" >/dev/null 2>&1 || return 1
    [[ -r $sysctl && $(<"$sysctl") == 1 ]] || return 1
    rules=$("$tool" -w 5 -S FORWARD 2>/dev/null) || return 1
    rules=$(grep -vE -- '--comment "?(nsx-testbed|nsxlab)"? -j ACCEPT$' <<<"$rules")
    [[ $rules != "-P FORWARD ACCEPT" ]]
}

# The rule is there exactly while the host's firewall needs it (called by start, also
# when the daemon already runs, so a firewall that appeared or went since is followed).
ensure_firewall() {
    local pair tool rule
    firewall_rule rule
    for pair in iptables:bridge-nf-call-iptables ip6tables:bridge-nf-call-ip6tables; do
        tool=${pair%%:*}
        if firewall_needed "$tool" "${pair#*:}"; then
            "$tool" -w 5 -C FORWARD "${rule[@]}" 2>/dev/null && continue
            "$tool" -w 5 -I FORWARD 1 "${rule[@]}"
            say "$tool: FORWARD accepts $BRIDGE <-> $BRIDGE (comment $FW_COMMENT)"
        elif command -v "$tool" >/dev/null 2>&1 &&
            "$tool" -w 5 -C FORWARD "${rule[@]}" 2>/dev/null; then
            remove_firewall_of "$tool"
            say "$tool: FORWARD no longer filters; removed the $FW_COMMENT rule"
        fi
    done
}

# Every copy of our one rule, and nothing else.
remove_firewall_of() {
    local tool=$1 n rule
    firewall_rule rule
    for n in 1 2 3 4 5 6 7 8; do
        "$tool" -w 5 -C FORWARD "${rule[@]}" 2>/dev/null || break
        "$tool" -w 5 -D FORWARD "${rule[@]}"
    done
}

remove_firewall() {
    local tool
    for tool in iptables ip6tables; do
        command -v "$tool" >/dev/null 2>&1 && remove_firewall_of "$tool"
    done
    return 0
}

cmd_start() {
    need_root
    need_tools
    if pid=$(daemon_pid) && responding; then
        ensure_bridge
        ensure_firewall
        make_image
        say "already running (pid $pid); DOCKER_HOST=$DOCKER_HOST_URL"
        return 0
    fi
    if pid=$(daemon_pid); then
        # Alive but not answering: maybe still starting. Give it a moment, else restart.
        local i
        for i in $(seq 1 100); do
            responding && break
            sleep 0.2
        done
        if responding; then
            ensure_bridge
            ensure_firewall
            make_image
            say "already running (pid $pid); DOCKER_HOST=$DOCKER_HOST_URL"
            return 0
        fi
        say "daemon pid $pid does not answer; restarting it"
    fi
    # Recover from a crash: stale processes, pidfile, socket, containerd state.
    kill_leftovers
    remove_empty_cgroups
    remove_stale_network_bridges
    rm -f "$PIDFILE" "$SOCK" "$EXEC_ROOT/containerd/containerd.pid"
    mkdir -p "$STATE_DIR" "$EXEC_ROOT" "$DATA_ROOT"
    chmod 711 "$STATE_DIR"
    write_config
    ensure_bridge
    ensure_firewall

    local argv
    dockerd_args argv
    guard_dockerd_args "${argv[@]}" || die "refusing to start dockerd (see above)"
    guard_dockerd_config "$CONFIG" || die "refusing to start dockerd (see above)"

    # setsid: not a child that dies with this shell; unshare execs dockerd (no --fork),
    # so the pid in the pidfile is dockerd's own and it runs in a private mount ns.
    setsid unshare --mount --propagation private -- "$DOCKERD" "${argv[@]}" \
        </dev/null >"$LOG" 2>&1 &
    local launcher=$!
    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if responding; then
            break
        fi
        if ! kill -0 "$launcher" 2>/dev/null && ! daemon_pid >/dev/null; then
            echo "---- last lines of $LOG ----" >&2
            tail -n 30 "$LOG" >&2 || true
            die "dockerd exited during start-up"
        fi
        sleep 0.2
    done
    if ! responding; then
        tail -n 30 "$LOG" >&2 || true
        die "dockerd did not answer on $SOCK within ${START_TIMEOUT}s (log: $LOG)"
    fi
    # A fresh daemon: whatever containers and networks it still knows are from an
    # earlier run that did not stop cleanly; start from an empty engine.
    local ids
    ids=$(dk ps -aq 2>/dev/null || true)
    if [[ -n $ids ]]; then
        # shellcheck disable=SC2086
        dk rm -f $ids >/dev/null 2>&1 || true
        say "removed $(echo "$ids" | wc -l) container(s) left by an earlier run"
    fi
    dk network prune -f >/dev/null 2>&1 || true
    make_image
    say "started (pid $(daemon_pid || echo '?')); DOCKER_HOST=$DOCKER_HOST_URL"
}

cmd_stop() {
    need_root
    local purge=0
    [[ ${1:-} == --purge ]] && purge=1
    local pid=""
    if pid=$(daemon_pid) && responding; then
        local ids
        ids=$(dk ps -aq 2>/dev/null || true)
        if [[ -n $ids ]]; then
            # shellcheck disable=SC2086
            dk rm -f $ids >/dev/null 2>&1 || true
        fi
        dk network prune -f >/dev/null 2>&1 || true
    fi
    if [[ -n $pid ]] || pid=$(daemon_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "dockerd $pid ignored SIGTERM for 15s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped dockerd (pid $pid)"
    fi
    kill_leftovers
    remove_empty_cgroups
    remove_stale_network_bridges
    remove_bridge
    remove_firewall
    rm -f "$PIDFILE" "$SOCK"
    if ((purge)); then
        # The daemon ran in its own mount namespace, now gone, so nothing is mounted
        # under these; refuse anyway if the host shows a mount there.
        if grep -qE " ($DATA_ROOT|$STATE_DIR)(/| )" /proc/self/mountinfo; then
            die "something is mounted under $DATA_ROOT or $STATE_DIR; not purging"
        fi
        rm -rf "$DATA_ROOT" "$STATE_DIR"
        say "purged $DATA_ROOT and $STATE_DIR"
    fi
    say "stopped"
}

cmd_status() {
    local pid
    if pid=$(daemon_pid) && responding; then
        local n
        n=$(dk ps -q | wc -l)
        echo "running: pid $pid, DOCKER_HOST=$DOCKER_HOST_URL, $n container(s) running," \
            "bridge $BRIDGE, data-root $DATA_ROOT"
        return 0
    fi
    if pid=$(daemon_pid); then
        echo "not answering: dockerd pid $pid is alive but $SOCK does not answer"
        return 3
    fi
    echo "stopped"
    return 3
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case ${1:-} in
start) cmd_start ;;
stop)
    shift
    cmd_stop "$@"
    ;;
status) cmd_status ;;
env) echo "export DOCKER_HOST=$DOCKER_HOST_URL" ;;
*)
    echo "usage: $0 start | stop [--purge] | status | env" >&2
    exit 2
    ;;
esac
