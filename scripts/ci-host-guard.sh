#!/usr/bin/env bash
# What a host's Docker looks like, before and after the test suite; CI fails on a change.
#
#   scripts/ci-host-guard.sh snapshot DIR   record the host into DIR/before/
#   scripts/ci-host-guard.sh verify DIR     record DIR/after/, compare; exit 1 on a change
#   scripts/ci-host-guard.sh rules          print the comparable iptables/ip6tables text
#
# Checked (NSXCI_CHECKS selects a subset, for tests):
#   bridge     docker0 (NSXCI_BRIDGE) is the same interface: ifindex, mtu, mac, admin
#              state, addresses (deleted and re-created would change its ifindex)
#   container  the sentinel container (NSXCI_SENTINEL) is the same process, its eth0's
#              host veth is the same (name, ifindex) and still on that bridge, and it
#              still answers a ping from the host
#   engine     the host engine's (NSXCI_DOCKER_HOST) networks, containers, images
#   iptables   `iptables-save` and `ip6tables-save`, less counters: exactly equal
#   sysctl     ip_forward, ipv6 forwarding, br_netfilter's bridge-nf-call-*
#   links      every host interface but the project's own (named nsx*, ports of an
#              nsx* bridge, the test daemon's network bridges and their ports): same
#              ifindex, name, master, mtu, mac, admin state; none deleted, none left
#              behind
# Read-only: it changes nothing on the host.
set -uo pipefail

DOCKER=${NSXCI_DOCKER:-/usr/bin/docker}
DOCKER_HOST_URL=${NSXCI_DOCKER_HOST:-unix:///var/run/docker.sock}
BRIDGE=${NSXCI_BRIDGE:-docker0}
SENTINEL=${NSXCI_SENTINEL:-nsxci-sentinel}
CHECKS=${NSXCI_CHECKS:-bridge container engine iptables sysctl links}
TESTBED_HOST=${NSXCI_TESTBED_HOST:-unix:///run/nsx-testbed/docker.sock}

dk() { timeout 60 "$DOCKER" -H "$DOCKER_HOST_URL" "$@"; }

# "ifindex name master mtu mac up|down" for one `ip -o link` line
link_record() {
    local line=$1 index name master mtu mac admin=down flags
    index=${line%%:*}
    name=${line#*: }
    name=${name%%: *}
    name=${name%%@*}
    flags=${line#*<}
    flags=${flags%%>*}
    [[ ,$flags, == *,UP,* ]] && admin=up
    master=$(sed -nE 's/.* master ([^ ]+) .*/\1/p' <<<"$line")
    mtu=$(sed -nE 's/.* mtu ([0-9]+) .*/\1/p' <<<"$line")
    mac=$(sed -nE 's#.* link/[a-z]+ ([0-9a-f:]+).*#\1#p' <<<"$line")
    # a bridge whose MAC was not set takes its lowest port's: it follows the ports
    # (others' containers come and go), so only a set MAC (docker0's) is compared
    if [[ -d /sys/class/net/$name/bridge ]] &&
        [[ $(cat "/sys/class/net/$name/addr_assign_type" 2>/dev/null) != 3 ]]; then
        mac=follows-ports
    fi
    echo "$index $name master=${master:--} mtu=$mtu mac=${mac:--} $admin"
}

section_bridge() {
    local line
    line=$(ip -o link show dev "$BRIDGE" 2>/dev/null) || {
        echo "no interface $BRIDGE"
        return
    }
    link_record "$line"
    ip -o addr show dev "$BRIDGE" | awk '{print $3, $4}' | sort
}

sentinel_ip() {
    dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$SENTINEL" \
        2>/dev/null
}

answers() {
    local ip=$1
    [[ -n $ip ]] || return 1
    for _ in 1 2 3; do
        busybox ping -c 1 -W 2 "$ip" >/dev/null 2>&1 && return 0
    done
    return 1
}

section_container() {
    local info ip peer line
    info=$(dk inspect -f '{{.Id}} pid={{.State.Pid}} running={{.State.Running}}' \
        "$SENTINEL" 2>/dev/null) || {
        echo "no container $SENTINEL"
        return
    }
    echo "$info"
    ip=$(sentinel_ip)
    echo "address ${ip:--}"
    peer=$(dk exec "$SENTINEL" cat /sys/class/net/eth0/iflink 2>/dev/null | tr -dc 0-9)
    line=$(ip -o link show 2>/dev/null | grep -E "^${peer:-x}: " | head -n 1)
    if [[ -n $line ]]; then
        echo "host veth $(link_record "$line")"
    else
        echo "host veth: none (eth0's peer ifindex '${peer}' is not on the host)"
    fi
    if answers "$ip"; then echo "answers a ping: yes"; else echo "answers a ping: NO"; fi
}

section_engine() {
    echo "networks:"
    dk network ls --no-trunc --format '{{.ID}} {{.Name}} {{.Driver}}' | sort
    echo "containers:"
    dk ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Image}} {{.State}}' | sort
    echo "images:"
    dk images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort
}

# `iptables-save` as a comparable text: no comments, no counters, and no table that
# filters nothing (only built-in chains, all ACCEPT, no rules): with the nft backend,
# adding and deleting a rule leaves such an empty table behind, which is no change.
normalized_save() {
    "$1" 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/' | awk '
        /^\*/ { block = $0 "\n"; empty = 1; next }
        /^COMMIT/ { if (!empty) printf "%s%s\n", block, $0; block = ""; next }
        block != "" {
            block = block $0 "\n"
            if ($0 !~ /^:[A-Z]+ ACCEPT /) empty = 0
            next
        }
        { print }'
}

section_iptables() {
    local save
    for save in iptables-save ip6tables-save; do
        echo "== $save"
        command -v "$save" >/dev/null 2>&1 || continue
        normalized_save "$save"
    done
}

section_sysctl() {
    local f
    for f in net/ipv4/ip_forward net/ipv6/conf/all/forwarding \
        net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables \
        net/bridge/bridge-nf-call-arptables; do
        if [[ -r /proc/sys/$f ]]; then echo "$f=$(<"/proc/sys/$f")"; else echo "$f absent"; fi
    done
}

# Bridges of the test daemon's networks (br-<id> unless named): the suite's own, made
# and removed by tests while they run (and, on a shared machine, by other sessions).
testbed_bridges() {
    local ids
    ids=$(timeout 20 "$DOCKER" -H "$TESTBED_HOST" network ls -q --no-trunc \
        --filter driver=bridge 2>/dev/null) || return 0
    [[ -n $ids ]] || return 0
    # shellcheck disable=SC2086
    timeout 20 "$DOCKER" -H "$TESTBED_HOST" network inspect $ids \
        -f '{{.Id}} {{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null |
        while read -r id name; do
            [[ -z $name || $name == "<no value>" ]] && name=br-${id:0:12}
            echo "$name"
        done
}

section_links() {
    local line rec name master ours
    ours=" $(testbed_bridges | tr '\n' ' ') "
    while IFS= read -r line; do
        rec=$(link_record "$line")
        name=$(cut -d' ' -f2 <<<"$rec")
        master=$(cut -d' ' -f3 <<<"$rec")
        master=${master#master=}
        [[ $name == nsx* || $master == nsx* ]] && continue
        [[ $ours == *" $name "* || $ours == *" $master "* ]] && continue
        echo "$rec"
    done < <(ip -o link show)
}

record() {
    local into=$1 check
    mkdir -p "$into"
    for check in $CHECKS; do
        "section_$check" >"$into/$check" 2>&1
    done
}

cmd_snapshot() {
    local dir=$1
    record "$dir/before"
    if [[ " $CHECKS " == *" container "* ]] && ! grep -q '^answers a ping: yes' \
        "$dir/before/container"; then
        echo "ci-host-guard: the sentinel container $SENTINEL does not answer; nothing to guard:" >&2
        cat "$dir/before/container" >&2
        return 1
    fi
    echo "ci-host-guard: recorded ($CHECKS) in $dir/before"
}

cmd_verify() {
    local dir=$1 check changed=()
    [[ -d $dir/before ]] || {
        echo "ci-host-guard: no snapshot in $dir" >&2
        return 2
    }
    rm -rf "$dir/after"
    record "$dir/after"
    for check in $CHECKS; do
        if ! diff -u --label "before: $check" --label "after: $check" \
            "$dir/before/$check" "$dir/after/$check" >"$dir/after/$check.diff"; then
            changed+=("$check")
        fi
    done
    if ((${#changed[@]})); then
        echo "ci-host-guard: THE HOST CHANGED: ${changed[*]}" >&2
        for check in "${changed[@]}"; do
            cat "$dir/after/$check.diff" >&2
        done
        return 1
    fi
    echo "ci-host-guard: the host is as it was ($CHECKS)"
}

case ${1:-} in
rules) section_iptables ;; # the comparable ruleset, for ci-system-docker.sh
snapshot | verify)
    [[ -n ${2:-} ]] || {
        echo "usage: $0 snapshot|verify DIR" >&2
        exit 2
    }
    "cmd_$1" "$2"
    ;;
*)
    echo "usage: $0 snapshot|verify DIR" >&2
    exit 2
    ;;
esac
