"""TARGETs mean exactly what they say (issue 8 item 5, issue 10 item 5).

Exact names match exactly, spaces included; a near match is a suggestion, never used;
numbers are ASCII digits within range; an all-digit netns name that is also an inode is
ambiguous; addresses, MACs and interface names resolve through the shared matcher; no
input raises anything but a TargetError.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from matchfixtures import (
    BLUE,
    DIGITS,
    HOST,
    SLEEP,
    WEB,
    WEB_MAC,
    WEB_SPACE,
    cheap,
    nsid,
    snapshot,
    without,
)

from nsexplorer.errors import TargetAmbiguous, TargetError, TargetNotFound
from nsexplorer.model import EngineInfo, NetNamespace, Snapshot, StoppedContainer
from nsexplorer.targets import needs_details, pid_of, resolve


def test_a_trailing_space_is_never_trimmed() -> None:
    assert resolve("web ", snapshot()).inode == WEB_SPACE
    assert resolve("web", snapshot()).inode == WEB
    # Without the container, "web" only starts the netns name: suggested, never used.
    with pytest.raises(TargetNotFound) as info:
        resolve("web", without(snapshot(), WEB))
    assert info.value.message == (
        "no namespace matches 'web' exactly; did you mean (give it exactly):"
    )
    assert info.value.candidates[0] == (
        "'web ' (named, inode 4000): netns name 'web ' (starts with it)"
    )
    with pytest.raises(TargetNotFound) as info:
        resolve("  blue  ", snapshot())
    assert info.value.candidates[0] == (
        "blue (named, inode 3000): netns name blue (without the spaces around it)"
    )


def test_a_near_match_in_case_is_only_a_suggestion() -> None:
    with pytest.raises(TargetNotFound) as info:
        resolve("Blue", snapshot())
    assert info.value.candidates == (
        "blue (named, inode 3000): netns name blue (the same but for case)",
    )


def test_an_all_digit_name_that_is_also_an_inode_is_ambiguous() -> None:
    with pytest.raises(TargetAmbiguous) as info:
        resolve(str(BLUE), snapshot())
    assert info.value.exit_code == 2
    assert "write /run/netns/NAME for the name" in info.value.message
    assert info.value.candidates == (
        "3000 (named, inode 8000): netns name 3000",
        "blue (named, inode 3000): inode 3000",
    )
    assert resolve(f"/run/netns/{BLUE}", snapshot()).inode == DIGITS
    assert resolve(str(DIGITS), snapshot()).inode == DIGITS
    assert resolve(str(BLUE), without(snapshot(), DIGITS)).inode == BLUE


@pytest.mark.parametrize(
    ("target", "note"),
    [
        ("9" * 5000, "(an inode is below 2**64)"),
        (str(2**64), "(an inode is below 2**64)"),
        ("pid:", "(pid:N takes a process id in ASCII digits 0-9)"),
        ("pid:" + "9" * 5000, "(pid:N takes a process id in ASCII digits 0-9)"),
        ("pid:²", "(pid:N takes a process id in ASCII digits 0-9)"),
        ("pid:\u0661\u0662", "(pid:N takes a process id in ASCII digits 0-9)"),
        ("pid:0", "(process ids are 1 to 32768)"),
        ("pid:99999", "(process ids are 1 to 32768)"),
        ("²", "(only ASCII digits 0-9 are read as a number)"),
        ("\u0661\u0660\u0660\u0660", "(only ASCII digits 0-9 are read as a number)"),
    ],
)
def test_numbers_are_ascii_digits_within_range(target: str, note: str) -> None:
    with pytest.raises(TargetNotFound) as info:
        resolve(target, snapshot(), pid_max=32768)
    assert note in info.value.message
    # Arabic-Indic 1000 was not read as inode 1000 (the host); ASCII is.
    assert resolve("1000", snapshot()).inode == HOST


def test_a_huge_target_is_quoted_short() -> None:
    with pytest.raises(TargetNotFound) as info:
        resolve("9" * 5000, snapshot())
    assert info.value.message == (
        f"no namespace matches {'9' * 80!r}... (5000 characters) (an inode is below 2**64)"
    )


def test_pid_of_reads_only_bounded_ascii_digits() -> None:
    assert pid_of("pid:900") == 900
    for bad in ("pid:", "pid:²", "pid: 9", "pid:9 ", "pid:-1", "pid:" + "9" * 11, "900"):
        assert pid_of(bad) is None


def test_the_callers_stat_is_authoritative_for_a_pid() -> None:
    """The snapshot's pid list may be older than the process: the stat decides."""
    assert resolve("pid:900", snapshot()).inode == SLEEP
    assert resolve("pid:900", snapshot(), stat_id=nsid(BLUE)).inode == BLUE


@pytest.mark.parametrize(
    ("target", "inode"),
    [
        ("172.17.0.2", WEB),
        ("172.17.0.2/16", WEB),
        (WEB_MAC, WEB),
        ("02-42-AC-11-00-02", WEB),
        ("0242.ac11.0002", WEB),
        ("docker0", HOST),
        ("10.0.2.0/24", HOST),  # a CIDR with exactly one namespace in it
        ("fe80::1", BLUE),
    ],
)
def test_addresses_macs_and_interfaces(target: str, inode: int) -> None:
    assert resolve(target, snapshot()).inode == inode


@pytest.mark.parametrize(
    ("target", "candidates"),
    [
        (
            "10.0.0.5",
            (
                "blue (named, inode 3000): ip 10.0.0.5/24 on eth0",
                "'web ' (named, inode 4000): ip 10.0.0.5/24 on eth0",
            ),
        ),
        (
            "172.16.0.0/12",
            (
                "host (host, inode 1000): ip 172.17.0.1/16 on docker0 (in 172.16.0.0/12)",
                "web (containers, inode 2000): ip 172.17.0.2/16 on eth0 (in 172.16.0.0/12)",
            ),
        ),
        (
            "veth1234",
            (
                "host (host, inode 1000): interface veth1234",
                "web (containers, inode 2000): eth0, peer of veth1234 in host",
            ),
        ),
    ],
)
def test_several_exact_facts_are_ambiguous(target: str, candidates: tuple[str, ...]) -> None:
    with pytest.raises(TargetAmbiguous) as info:
        resolve(target, snapshot())
    assert info.value.candidates == candidates
    assert info.value.message == f"{target!r} matches 2 namespaces; name one of them exactly:"


def test_a_fact_is_not_used_while_some_namespace_is_unread() -> None:
    snap = snapshot()
    snap = replace(snap, namespaces=tuple(
        replace(n, detailed=False, interfaces=()) if n.inode == BLUE else n for n in snap.namespaces
    ))  # fmt: skip
    with pytest.raises(TargetAmbiguous) as info:
        resolve("172.17.0.2", snap)
    assert "the interfaces of 1 other namespaces could not be read" in info.value.message
    assert info.value.candidates == (
        "web (containers, inode 2000): ip 172.17.0.2/16 on eth0",
        "blue (named, inode 3000): interfaces not read",
    )
    # names, ids and paths are unaffected
    assert resolve("web", snap).inode == WEB
    gone = replace(snap, namespaces=tuple(
        replace(n, gone=True) if n.inode == BLUE else n for n in snap.namespaces
    ))  # fmt: skip
    assert resolve("172.17.0.2", gone).inode == WEB


def test_needs_details_only_when_an_interface_fact_could_decide() -> None:
    lean = cheap(snapshot())
    # a name could also be another namespace's interface name: read before deciding
    assert needs_details("web", lean)
    assert not needs_details("pid 900 (sleep)", lean)  # a label (not an interface name)
    assert not needs_details("nope nope", lean)  # cannot be an address or interface
    assert not needs_details("/some/path", lean, stat_id=nsid(BLUE))
    assert not needs_details("", lean)
    for target in ("172.17.0.2", "eth0", "aa:bb:cc:dd:ee:ff", "10.0.0.0/8", "5e0a", "wbe"):
        assert needs_details(target, lean), target
        assert not needs_details(target, snapshot()), target  # everything read already


def test_a_stopped_container_is_still_named() -> None:
    stopped = StoppedContainer(id="ab12" + "0" * 60, name="old", state="exited")
    snap = replace(
        snapshot(), engines=(EngineInfo("docker", True, "unix:///x", stopped=(stopped,)),)
    )
    for target in ("old", "/old", "ab12"):
        with pytest.raises(TargetNotFound) as info:
            resolve(target, snap)
        assert "container old (ab1200000000) is exited, not running" in info.value.message


def test_candidates_show_hostile_names_escaped() -> None:
    snap = snapshot()
    evil = NetNamespace(nsid(9000), label="\x1b[31mweb", names=("\x1b[31mweb",), detailed=True)
    snap = replace(snap, namespaces=(*snap.namespaces, evil))
    with pytest.raises(TargetNotFound) as info:
        resolve("[31mwe", snap)
    assert info.value.candidates == (
        "$'\\x1b[31mweb' (named, inode 9000): netns name $'\\x1b[31mweb' (contains it)",
    )


# --- no input gives anything but a TargetError -------------------------------------------

HOSTILE = [
    "", " ", "\x00", "\udcff", "\ud800", "/", "..", ".", "x" * 10_000, "[@click=app.quit]",
    "9" * 5000, "pid:", "pid:²", "pid:" + "9" * 5000, "pid:-1", "pid:+1", "pid: 1", "pid:1/2",
    "\u0661\u0662\u0663", "²", "-1", "+1", "1e9", "0x10", "::", "::/0", "0.0.0.0/0", "1.2.3.4/99",
    "1.2.3.4/" + "9" * 5000, "1.2.3.4%", "fe80::1%", "fe80::1%" + "x" * 5000, "1.2.3.4/-1",
    "aa:bb:cc:dd:ee:ff:00", "aabb.ccdd.eeff.", "a" * 64, "A" * 64, "f" * 5000,
    "/run/netns/", "/run/netns/\x00", "\n", "\t", "\u202e", "web\n", "%", "/" * 5000,
    "/proc/self/root/" * 300, "10.0.0.5/24\x00", "02:42:ac:11:00:02 ", "\U0010ffff",
]  # fmt: skip


def _random_inputs(n: int = 400) -> list[str]:
    rng = random.Random(20261201)  # noqa: S311 - fixed seed: a failure is reproducible
    alphabet = "0123456789abcdefABCDEF:./-%pid \x00\x1b\n²\u0661\udcff[]@=web"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def _snapshots() -> list[Snapshot]:
    down = EngineInfo("docker", reachable=False, host="unix:///\x1bnope")
    stopped = EngineInfo(
        "docker", True, "x", stopped=(StoppedContainer("ab" * 32, "old", "exited"),)
    )
    snap = snapshot()
    return [snap, cheap(snap), replace(snap, engines=(down,)), replace(snap, engines=(stopped,)),
            Snapshot("h", "t")]  # fmt: skip


@pytest.mark.parametrize("target", HOSTILE + _random_inputs())
def test_no_input_raises_anything_but_a_target_error(target: str) -> None:
    for snap in _snapshots():
        for stat_error in ("", "/x: No such file or directory"):
            needs_details(target, snap)
            try:
                ns = resolve(target, snap, stat_error=stat_error, pid_max=32768)
            except TargetError as err:
                assert err.exit_code == 2
                for text in (err.message, *err.candidates):
                    text.encode("utf-8")  # no lone surrogate: printable under any locale
                    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text), text
            else:
                assert isinstance(ns, NetNamespace)


def test_a_name_that_is_another_namespaces_address_or_interface_is_ambiguous() -> None:
    """QA: a container named 10.240.1.2 silently won over the namespace holding that IP."""
    from nsexplorer.model import Address, Container, Interface, NamespaceId, NetNamespace, Snapshot

    holder = NetNamespace(
        id=NamespaceId(4, 10),
        label="real",
        names=("real",),
        detailed=True,
        interfaces=(
            Interface(2, "eth0", "veth", "up", 1500, "02:00:00:00:00:02",
                      addresses=(Address(4, "10.240.1.2", 24, "global"),)),
        ),
    )  # fmt: skip
    decoy = NetNamespace(
        id=NamespaceId(4, 11),
        label="10.240.1.2",
        detailed=True,
        containers=(Container("docker", "c" * 64, "10.240.1.2", "img", "default", 5),),
    )
    snap = Snapshot("h", "t", namespaces=(holder, decoy))
    for target in ("10.240.1.2", "eth0"):
        named = NetNamespace(id=NamespaceId(4, 12), label=target, names=(target,), detailed=True)
        s = Snapshot("h", "t", namespaces=(*snap.namespaces, named))
        with pytest.raises(TargetAmbiguous) as info:
            resolve(target, s)
        assert "also an address, MAC or interface name" in info.value.message
        assert any("real" in c for c in info.value.candidates)
    # a plain name with no such collision still resolves
    assert resolve("real", snap).inode == 10


def test_no_match_never_lists_a_near_match_as_if_it_matched() -> None:
    """`show nsxff2-n026` said "no namespace matches" and then listed nsxff2-n0260...
    as plain matches: each suggestion says how it differs, and none is cut silently."""
    snap = snapshot()
    many = tuple(
        NetNamespace(
            nsid(7000 + n), label=f"nsxqf-n{n:02}", names=(f"nsxqf-n{n:02}",), detailed=True
        )
        for n in range(12)
    )
    snap = replace(snap, namespaces=(*snap.namespaces, *many))
    with pytest.raises(TargetNotFound) as info:
        resolve("nsxqf-n0", snap)
    assert info.value.message == (
        "no namespace matches 'nsxqf-n0' exactly; did you mean (give it exactly):"
    )
    *shown, last = info.value.candidates
    assert len(shown) == 8
    assert all(line.endswith(" (starts with it)") for line in shown), shown
    assert shown[0] == "nsxqf-n00 (named, inode 7000): netns name nsxqf-n00 (starts with it)"
    assert last == "... and 2 more namespaces near it"  # nsxqf-n08, nsxqf-n09
    with pytest.raises(TargetNotFound) as info:
        resolve("qf-n11", snap)
    assert info.value.candidates[0].endswith("netns name nsxqf-n11 (contains it)")
    # A close spelling was never a match: it says so.
    with pytest.raises(TargetNotFound) as info:
        resolve("nsxqf-n1x", snap)
    assert all(line.endswith(" is close") for line in info.value.candidates)
