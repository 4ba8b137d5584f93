"""A link's admin state and carrier in the words a responder acts on, with the cause when
it is known: the one home of these words for the TUI and `show`.

"down" alone sends a responder the wrong way: the end that was set down and the end
whose veth peer was set down both lose their carrier, but only one of them needs an
`ip link set up`. So the words are "up", "up, no carrier" (with the cause: its veth peer
is admin down, its peer could not be resolved, a bridge with no port forwarding, the lower
device of a macvlan or vlan is down, a tun/tap no process has open) and
"admin down". Pure: model values in, strings out (raw; escape them for a terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from nsexplorer.model import Interface, NetNamespace, describe

# inode -> namespace, for the other end of a veth (a dict: O(1) per peer)
Lookup = Mapping[int, NetNamespace]

UP = "up"
NO_CARRIER = "up, no carrier"
ADMIN_DOWN = "admin down"
PEER_ADMIN_DOWN = "peer admin down"
NO_PORT_FORWARDING = "no port forwarding"
NO_TUN_HOLDER = "no process has it open"
TUN_CARRIER_OFF = "its process set the carrier off"

# The state column's word where the state's own is longer than it needs to be ("admin
# down" already says the admin state; "no carrier" implies it is up).
_COMPACT = {NO_CARRIER: "no carrier"}

# The operstate each state implies: any other operstate is worth saying too.
_USUAL_OPERSTATE = {UP: ("up",), ADMIN_DOWN: ("down",), NO_CARRIER: ("down", "lowerlayerdown")}


def link_state(iface: Interface, lookup: Lookup) -> tuple[str, str]:
    """(state, cause): "up", "up, no carrier" or "admin down" from the link's flags, with
    the cause when it is known (a veth whose peer is admin down, a bridge without ports);
    the kernel's operstate word when flags were not recorded."""
    state, cause, _ = _state(iface, lookup)
    return state, cause


def port_state_words(iface: Interface) -> str:
    """A bridge port's STP state when it is not forwarding ("port learning"): why frames
    do not cross a port whose link is up; "" for a forwarding port or any other link."""
    state = iface.port_not_forwarding
    return f"port {state}" if state is not None else ""


def compact_state(state: str) -> str:
    """The word a narrow column shows for ``state`` (a state from :func:`link_state`);
    the cause and the full words are for a sentence (:func:`state_sentence`)."""
    return _COMPACT.get(state, state)


def down_peer_namespace(iface: Interface, lookup: Lookup) -> NetNamespace | None:
    """The namespace of the device whose state is the cause of ``iface``'s missing
    carrier (its veth peer admin down, its lower device down), else None."""
    return _state(iface, lookup)[2]


def state_sentence(
    iface: Interface, lookup: Lookup, name: Callable[[NetNamespace], str] = describe
) -> str:
    """`show`'s words: "up", "admin down", "up, no carrier: peer admin down in X", and
    the operstate in parentheses when it says more ("up (unknown)" for lo)."""
    state, cause, where = _state(iface, lookup)
    if not iface.flags:
        return state
    text = state
    if cause:
        text += f": {cause}"
        if where is not None:
            text += f" in {name(where)}"
    if iface.state not in _USUAL_OPERSTATE.get(state, ()):
        text += f" ({iface.state})"
    return text


def state_words(iface: Interface) -> str:
    """The state in the Interfaces column's words, without a cause ("up", "no carrier",
    "admin down"), and the operstate in parentheses when it says more: what a change of
    state is worded as (`diff`, the Changes view). The kernel's operstate when flags were
    not recorded."""
    state = _own_state(iface)
    if not iface.flags:
        return state
    words = compact_state(state)
    if iface.state not in _USUAL_OPERSTATE.get(state, ()):
        words += f" ({iface.state})"
    return words


def _own_state(iface: Interface) -> str:
    """What the link's own flags say (no cause: that needs the other namespaces)."""
    admin = iface.admin_up
    if admin is None:
        return iface.state
    if not admin:
        return ADMIN_DOWN
    return UP if iface.carrier is not False else NO_CARRIER


def _state(iface: Interface, lookup: Lookup) -> tuple[str, str, NetNamespace | None]:
    state = _own_state(iface)
    if state != NO_CARRIER:
        return state, "", None
    return (NO_CARRIER, *_no_carrier_cause(iface, lookup))


def _no_carrier_cause(iface: Interface, lookup: Lookup) -> tuple[str, NetNamespace | None]:
    peer = iface.peer
    if peer is not None and peer.resolved and peer.netns_inode is not None:
        peer_ns = lookup.get(peer.netns_inode)
        other = peer_ns.interface(peer.ifindex) if peer_ns and peer.ifindex is not None else None
        if other is not None and other.admin_up is False:
            return PEER_ADMIN_DOWN, peer_ns
    if iface.kind == "veth" and peer is not None and not peer.resolved:
        return "peer unresolved", None
    if iface.kind == "bridge":
        # The kernel's own rule: a bridge has carrier while one of its ports forwards. A
        # port can be up with carrier and still not forward (STP learning, set disabled).
        return NO_PORT_FORWARDING, None
    if iface.tun is not None:
        return _tun_cause(iface.tun.held), None
    # a macvlan, vlan, vxlan... on a device that is down (a veth says lowerlayerdown
    # when its peer is down: handled above)
    if iface.state == "lowerlayerdown" and iface.kind != "veth":
        return _lower_cause(iface, lookup)
    return "", None


def _tun_cause(held: bool | None) -> str:
    """The kernel's rule for tun/tap: carrier on while a process has a queue attached
    (TUNSETIFF), off when the last one closes; only a holder can switch it off besides
    (TUNSETCARRIER). ``held`` None: a single-queue device, whose queues the kernel does
    not report; its missing carrier then means no holder, but for that rare ioctl."""
    return TUN_CARRIER_OFF if held else NO_TUN_HOLDER


def _lower_cause(iface: Interface, lookup: Lookup) -> tuple[str, NetNamespace | None]:
    """Why a stacked device has no carrier: its lower device (``parent``), named with the
    namespace it is in when that is known."""
    parent = iface.parent
    if parent is not None and parent.resolved and parent.netns_inode is not None:
        where = lookup.get(parent.netns_inode)
        lower = where.interface(parent.ifindex) if where and parent.ifindex is not None else None
        if lower is not None:
            down = ADMIN_DOWN if lower.admin_up is False else "no carrier"
            return f"lower device {lower.name} {down}", where
    return "lower device down", None
