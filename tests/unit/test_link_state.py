"""The words for a link's admin state and carrier (nsexplorer/link_state.py), shared by
the TUI and `show`."""

from __future__ import annotations

from nsexplorer.link_state import down_peer_namespace, link_state, state_sentence
from nsexplorer.model import Interface, NamespaceId, NetNamespace, Peer, Tun

UP = ("BROADCAST", "MULTICAST", "UP", "LOWER_UP")
NO_CARRIER = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
DOWN = ("BROADCAST", "MULTICAST")


def veth(flags: tuple[str, ...], state: str, peer: Peer | None = None, **kw: object) -> Interface:
    return Interface(3, "va", "veth", state, 1500, "aa", flags=flags, peer=peer, **kw)  # type: ignore[arg-type]


def ns(ino: int, label: str, *ifaces: Interface) -> NetNamespace:
    return NetNamespace(NamespaceId(4, ino), label=label, detailed=True, interfaces=ifaces)


def test_admin_state_and_carrier_are_separate_words() -> None:
    assert link_state(veth(UP, "up"), {}) == ("up", "")
    assert link_state(veth(DOWN, "down"), {}) == ("admin down", "")
    assert link_state(veth(NO_CARRIER, "down"), {}) == ("up, no carrier", "")
    assert state_sentence(veth(UP, "up"), {}) == "up"
    assert state_sentence(veth(DOWN, "down"), {}) == "admin down"
    assert state_sentence(veth(NO_CARRIER, "lowerlayerdown"), {}) == "up, no carrier"
    lo = Interface(
        1, "lo", "loopback", "unknown", 65536, "00", flags=("LOOPBACK", "UP", "LOWER_UP")
    )
    assert state_sentence(lo, {}) == "up (unknown)"  # an operstate that says more is kept
    # An old snapshot without flags: the operstate alone, as the kernel gave it.
    assert link_state(veth((), "down"), {}) == ("down", "")
    assert state_sentence(veth((), "down"), {}) == "down"


def test_the_cause_names_the_peer_that_was_set_down_and_where() -> None:
    far = ns(9, "web", Interface(2, "eth0", "veth", "down", 1500, "bb", flags=DOWN))
    near = veth(NO_CARRIER, "down", Peer(9, 2, "eth0"))
    lookup = {9: far}
    assert link_state(near, lookup) == ("up, no carrier", "peer admin down")
    assert down_peer_namespace(near, lookup) is far
    assert state_sentence(near, lookup) == "up, no carrier: peer admin down in web (inode 9)"
    assert state_sentence(near, lookup, lambda n: n.label.upper()) == (
        "up, no carrier: peer admin down in WEB"
    )
    # The peer's namespace was not read (no interfaces): no cause is guessed.
    assert state_sentence(near, {9: NetNamespace(NamespaceId(4, 9), label="web")}) == (
        "up, no carrier"
    )
    # The peer is up (its own carrier missing for another reason): not "peer admin down".
    up_far = ns(9, "web", Interface(2, "eth0", "veth", "down", 1500, "bb", flags=NO_CARRIER))
    assert link_state(near, {9: up_far}) == ("up, no carrier", "")
    assert down_peer_namespace(near, {9: up_far}) is None


def test_other_causes() -> None:
    lost = veth(NO_CARRIER, "down", Peer(None, 7, None))
    assert state_sentence(lost, {}) == "up, no carrier: peer unresolved"
    br = Interface(4, "br0", "bridge", "down", 1500, "cc", flags=NO_CARRIER)
    assert state_sentence(br, {}) == "up, no carrier: no port forwarding"


def test_a_stacked_device_names_its_lower_device_as_the_cause() -> None:
    """QA: a macvlan whose lower device was admin down said "up, no carrier" alone,
    although the kernel says lowerlayerdown."""
    lower_down = Interface(2, "eth0", "veth", "down", 1500, "bb", flags=DOWN)
    lower_up = Interface(2, "eth0", "veth", "down", 1500, "bb", flags=NO_CARRIER)
    mv = Interface(
        5, "mv0", "macvlan", "lowerlayerdown", 1500, "cc", flags=NO_CARRIER,
        parent=Peer(9, 2, "eth0"),
    )  # fmt: skip
    host = ns(9, "host", lower_down)
    assert state_sentence(mv, {9: host}) == (
        "up, no carrier: lower device eth0 admin down in host (inode 9)"
    )
    assert down_peer_namespace(mv, {9: host}) is host
    assert link_state(mv, {9: ns(9, "host", lower_up)}) == (
        "up, no carrier", "lower device eth0 no carrier"
    )  # fmt: skip
    assert link_state(mv, {}) == ("up, no carrier", "lower device down")  # not read


def test_the_peer_column_shows_a_stacked_devices_lower_device() -> None:
    """QA: the Interfaces pane showed nothing for a macvlan's lower device (only `show`
    and the state's cause named it). Now: where it sits, and "admin down" when it is."""
    from nsexplorer.ui.render import peer_text

    mv = Interface(
        5, "mv0", "macvlan", "lowerlayerdown", 1500, "cc", flags=NO_CARRIER,
        parent=Peer(9, 2, "eth0"),
    )  # fmt: skip
    lower_down = Interface(2, "eth0", "veth", "down", 1500, "bb", flags=DOWN)
    assert peer_text(mv, {9: ns(9, "host", lower_down)}).plain == "over eth0 in host, admin down"
    lower_up = Interface(2, "eth0", "veth", "up", 1500, "bb", flags=UP, master="br0")
    assert peer_text(mv, {9: ns(9, "host", lower_up)}).plain == "over eth0 in host (br0)"
    unknown = Interface(5, "mv0", "macvlan", "up", 1500, "cc", flags=UP, parent=Peer(None, 4, None))
    assert peer_text(unknown, {}).plain == "over unresolved (ifindex 4, netns unknown)"
    plain_dev = Interface(3, "dummy0", "dummy", "up", 1500, "dd", flags=UP)
    assert peer_text(plain_dev, {}).plain == ""


def test_a_tun_without_carrier_has_no_process_holding_it() -> None:
    """The kernel's rule: a tun/tap has carrier while a queue is attached."""

    def tap(tun: Tun, flags: tuple[str, ...] = NO_CARRIER) -> Interface:
        return Interface(4, "tap0", "tap", "down", 1500, "aa", flags=flags, tun=tun)

    nobody = Tun("tap", persist=True, multi_queue=True, queues=0, disabled_queues=0)
    assert state_sentence(tap(nobody), {}) == "up, no carrier: no process has it open"
    # single-queue: the kernel does not count its queues; the missing carrier says it
    assert link_state(tap(Tun("tap", persist=True)), {}) == (
        "up, no carrier", "no process has it open",
    )  # fmt: skip
    # held, yet no carrier: only its process can do that (TUNSETCARRIER)
    held = Tun("tap", multi_queue=True, queues=1, disabled_queues=0)
    assert link_state(tap(held), {})[1] == "its process set the carrier off"
    assert link_state(tap(held, UP), {}) == ("up", "")
