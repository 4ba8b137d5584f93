#!/usr/bin/env bash
# CI: make this machine look like a real Docker host, and undo exactly that afterwards.
#
#   scripts/ci-system-docker.sh start DIR   a system dockerd + a sentinel container on docker0
#   scripts/ci-system-docker.sh stop DIR    remove what start made (recorded in DIR)
#   scripts/ci-system-docker.sh check DIR   exit 1 unless firewall, sysctls and docker0
#                                           are as they were before start
#
# start: when a dockerd already answers on /var/run/docker.sock (a real host), it is
# used as it is and nothing is started. Otherwise a dockerd like Debian's docker.io
# service: the default socket, its own docker0 (172.17.0.1/16 as Docker picks it),
# iptables ON (so Docker makes its DOCKER, DOCKER-USER and DOCKER-ISOLATION chains and
# turns br_netfilter's bridge-nf-call-iptables on), but --ip-forward=false and
# --ip-masq=false so that nothing can be routed off the machine; then the FORWARD policy
# DROP that Docker sets when it turns forwarding on. Its data-root and exec-root are
# its own (/var/lib/nsxci-docker, /run/nsxci-docker): a stopped docker.io install is
# never started with the host's data. Then, on whichever engine, the image
# nsxci-busybox:ci (busybox-static, docker import) and the container nsxci-sentinel on
# the default bridge, which must answer a ping from the host.
#
# stop: the sentinel and its image if start made them; and if start started the
# daemon: the daemon and its containerd, the iptables rules and chains it added (only
# rules that name DOCKER* chains or docker0 and were not there before), the FORWARD
# policy and the sysctls as they were, its docker0, its directories. check: the host's
# iptables and sysctls equal what they were before start, and no docker0 is left.
set -uo pipefail

SYS_SOCK=/var/run/docker.sock
SYS_HOST=unix://$SYS_SOCK
DATA_ROOT=/var/lib/nsxci-docker
EXEC_ROOT=/run/nsxci-docker
PIDFILE=/run/nsxci-docker.pid
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker
IMAGE=nsxci-busybox:ci
SENTINEL=nsxci-sentinel

say() { printf 'ci-system-docker: %s\n' "$*"; }
fail() {
    printf 'ci-system-docker: error: %s\n' "$*" >&2
    exit 1
}
dk() { timeout 120 "$DOCKER" -H "$SYS_HOST" "$@"; }
answers() { timeout 10 "$DOCKER" -H "$SYS_HOST" version >/dev/null 2>&1; }

# `name=value` lines in DIR/state, read back by stop
remember() { echo "$1=$2" >>"$STATE"; }

HERE=$(dirname "$0")
saved_rules() { bash "$HERE/ci-host-guard.sh" rules; } # v4 and v6, comparable

SYSCTLS=(net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables
    net/bridge/bridge-nf-call-arptables net/ipv4/ip_forward net/ipv6/conf/all/forwarding)
saved_sysctls() {
    local f
    for f in "${SYSCTLS[@]}"; do
        if [[ -r /proc/sys/$f ]]; then echo "$f=$(<"/proc/sys/$f")"; else echo "$f=absent"; fi
    done
}

our_dockerd_pid() {
    local pid
    [[ -r $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $DATA_ROOT" || return 1
    echo "$pid"
}

start_daemon() {
    if [[ -S $SYS_SOCK ]] || [[ -e /var/run/docker.pid ]]; then
        fail "$SYS_SOCK or /var/run/docker.pid exists but no dockerd answers there; not" \
            "starting another one on it (start or stop the host's docker first)"
    fi
    mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
    printf '{"deprecated-key-path": "%s/key.json"}\n' "$DATA_ROOT" >"$DIR/daemon.json"
    remember docker0_before "$(cat /sys/class/net/docker0/ifindex 2>/dev/null || echo none)"
    remember forward_policy "$(iptables -w 5 -S FORWARD | head -n 1 | awk '{print $3}')"
    remember own_daemon 1 # from here on, stop cleans up after it
    setsid "$DOCKERD" --config-file "$DIR/daemon.json" -H "$SYS_HOST" \
        --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" \
        --storage-driver vfs --iptables=true --ip-forward=false --ip-masq=false \
        --log-level warn </dev/null >"$DIR/dockerd.log" 2>&1 &
    for _ in $(seq 1 300); do
        answers && break
        sleep 0.2
    done
    answers || {
        tail -n 30 "$DIR/dockerd.log" >&2
        fail "the system-style dockerd did not answer on $SYS_SOCK"
    }
    [[ -e /sys/class/net/docker0 ]] || fail "the system-style dockerd made no docker0"
    remember docker0_ours "$(cat /sys/class/net/docker0/ifindex)"
    # What Docker does when it enables forwarding (here it may not: --ip-forward=false).
    iptables -w 5 -P FORWARD DROP
    say "started dockerd (pid $(our_dockerd_pid || echo '?')) on $SYS_SOCK, iptables on," \
        "FORWARD policy DROP, docker0 ifindex $(cat /sys/class/net/docker0/ifindex)"
}

make_image() {
    dk image inspect "$IMAGE" >/dev/null 2>&1 && return 0
    local bb root applet
    bb=$(command -v busybox) || fail "busybox not found (apt-get install busybox-static)"
    root=$(mktemp -d /tmp/nsxci-rootfs.XXXXXX)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
    cp "$bb" "$root/bin/busybox"
    for applet in sh sleep cat ip ping; do ln -s busybox "$root/bin/$applet"; done
    remember own_image 1
    tar -C "$root" -c . | dk import --change 'CMD ["sh"]' --change 'ENV PATH=/bin' - "$IMAGE" \
        >/dev/null || fail "docker import $IMAGE failed"
    rm -rf "$root"
}

make_sentinel() {
    if dk container inspect "$SENTINEL" >/dev/null 2>&1; then
        # the name is CI's: a crashed earlier run left it
        dk rm -f "$SENTINEL" >/dev/null
    fi
    remember own_container 1
    dk run -d --name "$SENTINEL" --label nsxci=1 --network bridge "$IMAGE" sleep infinity \
        >/dev/null || fail "docker run $SENTINEL failed"
    local ip
    ip=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$SENTINEL")
    for _ in $(seq 1 20); do
        busybox ping -c 1 -W 1 "$ip" >/dev/null 2>&1 && break
        sleep 0.2
    done
    busybox ping -c 1 -W 2 "$ip" >/dev/null 2>&1 || fail "$SENTINEL ($ip) does not answer a ping"
    say "container $SENTINEL on docker0 at $ip answers"
}

cmd_start() {
    : >"$STATE"
    saved_rules >"$DIR/pre.rules"
    saved_sysctls >"$DIR/pre.sysctls"
    if answers; then
        remember own_daemon 0
        say "a dockerd answers on $SYS_SOCK: using the host's Docker as it is"
    else
        start_daemon
    fi
    make_image
    make_sentinel
}

# Delete, in TOOL's TABLE, what Docker added: rules in other chains that name a DOCKER*
# chain or docker0, then the DOCKER* chains; nothing that was there before start.
undo_docker_rules() {
    local tool=$1 table=$2 pre=$3 line chain words
    local -a chains=()
    while IFS= read -r line; do
        case $line in
        "-N DOCKER"*) chains+=("${line#-N }") ;;
        "-A "*)
            chain=${line#-A }
            chain=${chain%% *}
            [[ $chain == DOCKER* ]] && continue
            [[ $line == *DOCKER* || $line == *docker0* ]] || continue
            grep -qxF -- "$line" "$pre" && continue
            [[ $line == *[\"\'\\]* ]] && continue # never word-split a quoted rule
            read -ra words <<<"${line#-A }"
            "$tool" -w 5 -t "$table" -D "${words[@]}" || true
            ;;
        esac
    done < <("$tool" -w 5 -t "$table" -S 2>/dev/null)
    for chain in "${chains[@]}"; do
        grep -q "^:$chain " "$pre" && continue
        "$tool" -w 5 -t "$table" -F "$chain" || true
    done
    for chain in "${chains[@]}"; do
        grep -q "^:$chain " "$pre" && continue
        "$tool" -w 5 -t "$table" -X "$chain" || true
    done
}

stop_daemon() {
    local pid
    if pid=$(our_dockerd_pid); then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 200); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        say "stopped dockerd (pid $pid)"
    fi
    [[ -S $SYS_SOCK ]] && ! answers && rm -f "$SYS_SOCK" # ours, left by a hard kill
    # its containerd and shims, if any survived (they name our exec-root)
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qE "$EXEC_ROOT|$DATA_ROOT" &&
            kill -KILL "$p" 2>/dev/null
    done
    local tool table
    for tool in iptables ip6tables; do
        command -v "$tool" >/dev/null 2>&1 || continue
        for table in filter nat; do
            undo_docker_rules "$tool" "$table" "$DIR/pre.rules"
        done
    done
    [[ -n ${forward_policy:-} ]] && iptables -w 5 -P FORWARD "$forward_policy"
    local line f v
    while IFS= read -r line; do
        f=${line%%=*} v=${line#*=}
        [[ $v == absent || ! -w /proc/sys/$f ]] && continue
        [[ $(<"/proc/sys/$f") == "$v" ]] || echo "$v" >"/proc/sys/$f"
    done <"$DIR/pre.sysctls"
    if [[ ${docker0_before:-} == none && -n ${docker0_ours:-} ]] &&
        [[ $(cat /sys/class/net/docker0/ifindex 2>/dev/null) == "$docker0_ours" ]]; then
        ip link del dev docker0
    fi
    if grep -qE " ($DATA_ROOT|$EXEC_ROOT)(/| )" /proc/self/mountinfo; then
        grep -E " ($DATA_ROOT|$EXEC_ROOT)(/| )" /proc/self/mountinfo >&2
        echo "ci-system-docker: mounts left under $DATA_ROOT or $EXEC_ROOT; not removing" >&2
        return 1
    fi
    rm -rf "$DATA_ROOT" "$EXEC_ROOT" "$PIDFILE"
}

load_state() {
    own_daemon=0 own_image=0 own_container=0 forward_policy="" docker0_before=""
    docker0_ours=""
    # shellcheck disable=SC1090
    source "$STATE"
}

cmd_stop() {
    [[ -r $STATE ]] || return 0
    local own_daemon own_image own_container forward_policy docker0_before docker0_ours
    local rc=0
    load_state
    if ((own_container)); then dk rm -f "$SENTINEL" >/dev/null 2>&1 || rc=1; fi
    if ((own_image)); then dk rmi "$IMAGE" >/dev/null 2>&1 || rc=1; fi
    if ((own_daemon)); then stop_daemon || rc=1; fi
    ((rc == 0)) && say "removed what start made"
    return "$rc"
}

# After stop (and after anything else that reacted to this host's firewall has reacted
# again): the firewall and sysctls are as before start, and no docker0 is left.
cmd_check() {
    [[ -r $STATE ]] || return 0
    local own_daemon own_image own_container forward_policy docker0_before docker0_ours
    local rc=0
    load_state
    if ((own_daemon)); then
        if ! diff -u --label "before ci" --label "after ci" \
            <(cat "$DIR/pre.rules" "$DIR/pre.sysctls") <(saved_rules; saved_sysctls) >&2; then
            echo "ci-system-docker: the host's firewall or sysctls differ from before CI" >&2
            rc=1
        fi
        if [[ -e /sys/class/net/docker0 && $docker0_before == none ]]; then
            echo "ci-system-docker: docker0 is left behind" >&2
            rc=1
        fi
    fi
    rm -f "$STATE"
    ((rc == 0)) && say "the host's firewall, sysctls and docker0 are as before"
    return "$rc"
}

[[ $(id -u) -eq 0 ]] || fail "must run as root"
DIR=${2:-}
[[ -n $DIR && -d $DIR ]] || fail "usage: $0 start|stop|check DIR (an existing directory)"
STATE=$DIR/system-docker.state
case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
check) cmd_check ;;
*) fail "usage: $0 start|stop|check DIR" ;;
esac
