"""A seeded generator of random network topologies for the differential test.

``build(seed)`` creates named namespaces ``nsxdiff-<seed>-<n>`` and fills them, using
only ``ip`` (and one sysctl), with what this kernel supports: veth pairs inside and
across namespaces (some ends down, some enslaved to bridges), bridges, macvlan and
macvtap (some moved away from their lower device's namespace), vxlan (also moved), tun
and tap (owner, group, pi, vnet_hdr, multi_queue), link flags (promisc, allmulticast,
noarp), aliases, txqueuelen, device groups; IPv4/IPv6 addresses with flags (secondary,
peer, label, brd, lifetimes, nodad, noprefixroute, a DAD failure); routes in several
tables (gateways, onlink, types, metric, mtu, tos, prefsrc, IPv6 source prefixes,
multipath with weights, nexthop objects single/group/blackhole, some namespaces with
nexthop_compat_mode 0, an encap); policy rules with every selector.

A command the kernel refuses is recorded, not fatal: the test compares the snapshot
with what ``ip`` reports afterwards, whatever got built. Interface names include odd but
legal bytes (brackets, @, =, quotes, non-ASCII); no control characters, which ip -j
would print raw. Everything lives inside the created namespaces; ``destroy(seed)``
removes them (and so everything in them).
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass, field

PREFIX = "nsxdiff"
ODD = ("x[{n}]", "a@{n}", "\u00fc{n}", "n={n}", "[{n}", "{n}]", 'q"{n}', "\u00e9-{n}", "z.{n}")


def ns_names(seed: int, count: int) -> list[str]:
    return [f"{PREFIX}-{seed}-{i}" for i in range(count)]


def existing(seed: int) -> list[str]:
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(f"{PREFIX}-{seed}-"))


def destroy(seed: int) -> None:
    for name in existing(seed):
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


@dataclass
class Dev:
    name: str
    kind: str
    ns: str
    up: bool = False


@dataclass
class Built:
    seed: int
    namespaces: list[str]
    ran: int = 0
    refused: list[str] = field(default_factory=list)


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible topologies, not secrets
        self.seed = seed
        self.devs: list[Dev] = []
        self.serial = 0
        self.built = Built(seed, [])
        self.v4: dict[str, list[tuple[str, str, str]]] = {}  # ns -> (prefix, dev, gateway)
        self.v6: dict[str, list[tuple[str, str, str]]] = {}
        self.nh_ids: dict[str, list[int]] = {}

    # --- plumbing -------------------------------------------------------------

    def ip(self, ns: str, *args: str) -> bool:
        return self._run("ip", ns, *args)

    def bridge(self, ns: str, *args: str) -> bool:
        return self._run("bridge", ns, *args)

    def _run(self, tool: str, ns: str, *args: str) -> bool:
        self.built.ran += 1
        done = subprocess.run([tool, "-n", ns, *args], capture_output=True, check=False)
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip()
            self.built.refused.append(f"{tool} -n {ns} {' '.join(args)}: {err}")
            return False
        return True

    def name(self, stem: str) -> str:
        self.serial += 1
        if self.rng.random() < 0.3:
            return self.rng.choice(ODD).format(n=self.serial)
        return f"{stem}{self.serial}"

    def in_ns(self, ns: str, *kinds: str) -> list[Dev]:
        return [d for d in self.devs if d.ns == ns and (not kinds or d.kind in kinds)]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- links ----------------------------------------------------------------

    def links(self, nss: list[str]) -> None:
        rng = self.rng
        for ns in nss:
            if self.chance(0.9):
                self.ip(ns, "link", "set", "dev", "lo", "up")
            for _ in range(rng.randint(0, 2)):
                br = Dev(self.name("br"), "bridge", ns)
                if self.ip(ns, "link", "add", "name", br.name, "type", "bridge"):
                    self.devs.append(br)
            for _ in range(rng.randint(1, 4)):
                other = ns if self.chance(0.3) else rng.choice(nss)
                a, b = Dev(self.name("v"), "veth", ns), Dev(self.name("v"), "veth", other)
                args = ["link", "add", "name", a.name, "type", "veth", "peer", "name", b.name]
                if other != ns:
                    args += ["netns", other]
                if self.ip(ns, *args):
                    self.devs += [a, b]
            for _ in range(rng.randint(0, 2)):
                self.tuntap(ns)
        for ns in nss:
            for _ in range(rng.randint(0, 2)):
                self.stacked(ns, nss)
        for dev in list(self.devs):
            self.link_options(dev)

    def tuntap(self, ns: str) -> None:
        mode = self.rng.choice(("tun", "tap"))
        dev = Dev(self.name(mode), mode, ns)
        if self.ip(ns, "tuntap", "add", "dev", dev.name, "mode", mode, *self.tun_options(dev)):
            self.devs.append(dev)

    def tun_options(self, dev: Dev) -> list[str]:
        """Owner, group (ids with and without a name here), pi, vnet_hdr, multi_queue.
        Drawn from a generator of their own: the rest of a seed's topology stays as it
        was before these were added."""
        rng = random.Random(f"{self.seed}/{dev.name}")  # noqa: S311 - reproducible
        args: list[str] = []
        if rng.random() < 0.6:
            args += ["user", str(rng.choice((0, 1000, 4242)))]
        if rng.random() < 0.6:
            args += ["group", str(rng.choice((0, 100, 4343)))]
        args += [flag for flag in ("pi", "vnet_hdr", "multi_queue") if rng.random() < 0.4]
        return args

    def stacked(self, ns: str, nss: list[str]) -> None:
        lowers = self.in_ns(ns, "veth")
        if not lowers:
            return
        lower = self.rng.choice(lowers)
        kind = self.rng.choice(("macvlan", "macvtap", "vxlan"))
        dev = Dev(self.name(kind[:2]), kind, ns)
        if kind == "vxlan":
            vni = str(self.rng.randint(1, 1 << 20))
            port = self.rng.choice(("4789", "8472"))
            args = ["type", "vxlan", "id", vni, "dev", lower.name, "dstport", port]
            args += self.rng.choice(([], ["group", "239.1.2.3"], ["remote", "10.77.0.9"],
                                     ["local", "10.77.0.1", "remote", "10.77.0.2"],
                                     ["group", "ff05::9"]))  # fmt: skip
        else:
            mode = self.rng.choice(("bridge", "private", "vepa"))
            args = ["link", lower.name, "type", kind, "mode", mode]
        if not self.ip(ns, "link", "add", "name", dev.name, *args):
            return
        self.devs.append(dev)
        if self.chance(0.4):
            target = self.rng.choice(nss)
            if target != ns and self.ip(ns, "link", "set", "dev", dev.name, "netns", target):
                dev.ns = target

    def link_options(self, dev: Dev) -> None:
        ns, name = dev.ns, dev.name
        port = False
        if dev.kind == "veth":
            bridges = self.in_ns(ns, "bridge")
            if bridges and self.chance(0.4):
                port = self.ip(
                    ns, "link", "set", "dev", name, "master", self.rng.choice(bridges).name
                )
        if self.chance(0.2):
            self.ip(ns, "link", "set", "dev", name, "mtu", str(self.rng.choice((1280, 1400, 9000))))
        if self.chance(0.2):
            self.ip(ns, "link", "set", "dev", name, "alias", f"alias [{self.serial}] \u00e9@x")
        if self.chance(0.25):
            qlen = str(self.rng.choice((0, 10, 500, 5000)))
            self.ip(ns, "link", "set", "dev", name, "txqueuelen", qlen)
        if self.chance(0.25):
            self.ip(ns, "link", "set", "dev", name, "group", str(self.rng.randint(1, 300)))
        for n in range(self.rng.choice((0, 0, 0, 1, 2))):  # unique in the namespace
            self.ip(ns, "link", "property", "add", "dev", name, "altname", f"{name}-alt{n}.x")
        for option in ("promisc", "allmulticast", "arp"):
            if self.chance(0.1):
                self.ip(ns, "link", "set", "dev", name, option, "off" if option == "arp" else "on")
        if self.chance(0.75) and self.ip(ns, "link", "set", "dev", name, "up"):
            dev.up = True
        if port and self.chance(0.3):  # a port up that does not forward (the kernel may
            self.bridge(ns, "link", "set", "dev", name, "state", "0")  # enable it again)

    # --- addresses ------------------------------------------------------------

    def addresses(self, nss: list[str]) -> None:
        rng = self.rng
        for dev in self.devs:
            ns = dev.ns
            if dev.kind in ("bridge", "veth", "tap", "tun", "macvlan", "vxlan") and self.chance(
                0.7
            ):
                net = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
                extra: list[str] = []
                if self.chance(0.3):
                    extra += rng.choice((
                        ["valid_lft", "3000", "preferred_lft", rng.choice(("0", "2000"))],
                        ["valid_lft", "300", "preferred_lft", "200"],
                        ["preferred_lft", "100"],  # valid forever: the kernel keeps neither
                    ))  # fmt: skip
                if self.chance(0.3):  # "+": the usual one; "-": host part all zeros
                    extra += ["brd", rng.choice(("+", "-", f"{net}.77"))]
                if self.chance(0.15):
                    extra.append("noprefixroute")
                if self.chance(0.2) and len(dev.name) <= 12:
                    extra += ["label", f"{dev.name}:{rng.randint(0, 9)}"]
                if self.ip(ns, "addr", "add", f"{net}.1/24", "dev", dev.name, *extra):
                    if dev.up:
                        self.v4.setdefault(ns, []).append((f"{net}.0/24", dev.name, f"{net}.254"))
                    if self.chance(0.3):
                        self.ip(ns, "addr", "add", f"{net}.2/24", "dev", dev.name)  # secondary
            if self.chance(0.15):
                a, b = rng.randint(1, 250), rng.randint(1, 250)
                self.ip(
                    ns, "addr", "add", f"172.31.{a}.1", "peer", f"172.31.{b}.2/32", "dev", dev.name
                )
            if self.chance(0.5):
                net6 = f"fd{rng.randint(0, 255):02x}:{rng.randint(0, 0xFFFF):x}:{self.serial:x}"
                extra6 = [w for w in ("nodad", "noprefixroute") if self.chance(0.3)]
                if self.chance(0.15):
                    extra6 += ["preferred_lft", "0", "valid_lft", "5000"]
                added = self.ip(ns, "-6", "addr", "add", f"{net6}::1/64", "dev", dev.name, *extra6)
                if added and dev.up and "noprefixroute" not in extra6:
                    self.v6.setdefault(ns, []).append((f"{net6}::/64", dev.name, f"{net6}::2"))
        # A duplicate address on both ends of a same-namespace pair: DAD fails.
        for ns in nss:
            pair = [d for d in self.in_ns(ns, "veth") if d.up]
            if len(pair) >= 2 and self.chance(0.4):
                for d in pair[:2]:
                    self.ip(ns, "-6", "addr", "add", "fd77::7/64", "dev", d.name)

    # --- routes, nexthops, rules ---------------------------------------------

    def routes(self, nss: list[str]) -> None:
        for ns in nss:
            if self.chance(0.3):
                subprocess.run(
                    ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.nexthop_compat_mode=0"],
                    capture_output=True,
                    check=False,
                )
            for _ in range(self.rng.randint(2, 9)):
                self.route(ns)
            self.nexthop_objects(ns)
            for _ in range(self.rng.randint(0, 6)):
                self.rule(ns)

    def table(self) -> list[str]:
        return [] if self.chance(0.5) else ["table", str(self.rng.choice((100, 101, 150, 200)))]

    def route(self, ns: str) -> None:
        rng = self.rng
        v4, v6 = self.v4.get(ns, []), self.v6.get(ns, [])
        dst = f"10.{rng.randint(200, 250)}.{rng.randint(0, 255)}.0/24"
        dst6 = f"fd99:{rng.randint(0, 0xFFFF):x}::/64"
        extra: list[str] = []
        if self.chance(0.3):
            extra += ["metric", str(rng.randint(1, 500))]
        if self.chance(0.2):
            extra += ["mtu", *(["lock"] if self.chance(0.3) else []), str(rng.choice((1300, 1400)))]
        choice = rng.randrange(8)
        if choice == 0 and v4:
            _net, dev, gw = rng.choice(v4)
            tos = ["tos", rng.choice(("0x10", "0x08", "0x04", "0x28"))] if self.chance(0.3) else []
            src = ["src", gw.rsplit(".", 1)[0] + ".1"] if self.chance(0.3) else []
            self.ip(
                ns, "route", "add", dst, "via", gw, "dev", dev, *tos, *src, *self.table(), *extra
            )
        elif choice == 1:
            devs = [d for d in self.in_ns(ns) if d.up]
            if devs:
                dev = rng.choice(devs).name
                gw = f"192.0.2.{rng.randint(1, 254)}"
                self.ip(
                    ns, "route", "add", dst, "via", gw, "dev", dev, "onlink", *self.table(), *extra
                )
        elif choice == 2:
            kind = rng.choice(("blackhole", "unreachable", "prohibit", "throw"))
            fam = ["-6"] if self.chance(0.4) else []
            self.ip(ns, *fam, "route", "add", kind, dst6 if fam else dst, *self.table(), *extra)
        elif choice == 3 and len(v4) >= 1:
            hops: list[str] = []
            for _net, dev, gw in rng.sample(v4, min(len(v4), rng.randint(1, 3))):
                hops += ["nexthop", "via", gw, "dev", dev, "weight", str(rng.randint(1, 5))]
                if self.chance(0.3):
                    hops += ["nexthop", "via", gw.rsplit(".", 1)[0] + ".253", "dev", dev]
            self.ip(ns, "route", "add", dst, *self.table(), *extra, *hops)
        elif choice == 4 and v6:
            hops = []
            for _net, dev, gw in rng.sample(v6, min(len(v6), rng.randint(1, 3))):
                hops += ["nexthop", "via", gw, "dev", dev, "weight", str(rng.randint(1, 5))]
            self.ip(ns, "-6", "route", "add", dst6, *self.table(), *extra, *hops)
        elif choice == 5 and v6:
            _net, dev, gw = rng.choice(v6)
            src = ["from", f"fd42:{rng.randint(0, 99)}::/64"] if self.chance(0.5) else []
            self.ip(
                ns, "-6", "route", "add", dst6, *src, "via", gw, "dev", dev, *self.table(), *extra
            )
        elif choice == 6 and v4:
            _net, dev, _gw = rng.choice(v4)
            self.ip(ns, "route", "add", dst, "dev", dev, "scope", "link", *self.table(), *extra)
        elif choice == 7:
            self.encap_route(ns, dst)

    def encap_route(self, ns: str, dst: str) -> None:
        name = f"vxe{self.serial}"
        self.serial += 1
        if self.in_ns(ns, "vxlan-external"):
            return  # one collect_md vxlan per port and namespace
        if not self.ip(
            ns, "link", "add", "name", name, "type", "vxlan", "external", "dstport", "4790"
        ):
            return
        self.devs.append(Dev(name, "vxlan-external", ns, up=True))
        self.ip(ns, "link", "set", "dev", name, "up")
        self.ip(ns, "route", "add", dst, "encap", "ip", "id", "7", "dst", "10.9.9.9", "dev", name)

    def nexthop_objects(self, ns: str) -> None:
        rng = self.rng
        ids: list[int] = []
        for _net, dev, gw in self.v4.get(ns, [])[:3]:
            nh_id = rng.randint(1, 10_000)
            if self.ip(ns, "nexthop", "add", "id", str(nh_id), "via", gw, "dev", dev):
                ids.append(nh_id)
        if not ids:
            return
        routes = [ids[0]]
        if len(ids) >= 2:
            group = "/".join(
                f"{i},{rng.randint(1, 9)}" if self.chance(0.6) else str(i) for i in ids
            )
            gid = rng.randint(10_001, 20_000)
            if self.ip(ns, "nexthop", "add", "id", str(gid), "group", group):
                routes.append(gid)
        bh = rng.randint(20_001, 30_000)
        if self.chance(0.4) and self.ip(ns, "nexthop", "add", "id", str(bh), "blackhole"):
            routes.append(bh)
        for nh_id in routes:
            dst = f"10.{rng.randint(200, 250)}.{rng.randint(0, 255)}.0/24"
            self.ip(ns, "route", "add", dst, "nhid", str(nh_id), *self.table())

    def rule(self, ns: str) -> None:
        rng = self.rng
        six = self.chance(0.4)
        args: list[str] = ["-6"] if six else []
        args += ["rule", "add"]
        if self.chance(0.15):
            args.append("not")
        if self.chance(0.5):
            args += [
                "from",
                f"fd10:{rng.randint(0, 99)}::/48" if six else f"10.{rng.randint(0, 99)}.0.0/16",
            ]
        if self.chance(0.3):
            args += [
                "to",
                f"fd20:{rng.randint(0, 99)}::/56" if six else f"10.{rng.randint(0, 99)}.1.0/24",
            ]
        if self.chance(0.15) and not six:
            args += ["tos", "0x10"]
        if self.chance(0.3):
            mark = f"{rng.randint(1, 0xFFFF):#x}"
            args += [
                "fwmark",
                mark + (f"/{rng.choice((0xFF, 0xFFFF)):#x}" if self.chance(0.5) else ""),
            ]
        devs = self.in_ns(ns)
        if devs and self.chance(0.3):
            args += ["iif", rng.choice(devs).name]
        if devs and self.chance(0.2):
            args += ["oif", rng.choice(devs).name]
        if self.chance(0.2):
            args += ["ipproto", rng.choice(("tcp", "udp"))]
            if self.chance(0.7):
                port = rng.randint(1, 60000)
                args += ["dport", str(port) if self.chance(0.5) else f"{port}-{port + 10}"]
            if self.chance(0.3):
                args += ["sport", str(rng.randint(1, 60000))]
        if self.chance(0.15):
            low = rng.randint(0, 60000)
            args += ["uidrange", f"{low}-{low + rng.randint(0, 100)}"]
        if self.chance(0.1):
            args += ["tun_id", str(rng.randint(1, 2**40))]
        if self.chance(0.05):  # no such device: the kernel marks the rule detached
            args += [rng.choice(("iif", "oif")), f"nsxnodev{rng.randint(0, 99)}"]
        if self.chance(0.1):
            args += ["protocol", rng.choice(("99", "static", "186", "kernel"))]
        prio = rng.randint(1, 32000)
        args += ["pref", str(prio)]
        action = rng.randrange(6)
        if not six and action != 2 and self.chance(0.15):  # an IPv4 rule's routing realms
            to = rng.randint(1, 255)
            args += ["realms", f"{rng.randint(1, 255)}/{to}" if self.chance(0.5) else str(to)]
        if action <= 1:
            args += ["table", str(rng.choice((100, 101, 150, 200, 254)))]
            if self.chance(0.3):
                args += ["suppress_prefixlength", str(rng.randint(0, 32))]
            if self.chance(0.2):
                args += ["suppress_ifgroup", str(rng.randint(0, 20))]
        elif action == 2:
            args += ["goto", str(prio + rng.randint(1, 500))]
        elif action == 3:
            args.append("nop")
        else:
            args.append(rng.choice(("blackhole", "unreachable", "prohibit")))
        self.ip(ns, *args)


def build(seed: int) -> Built:
    gen = _Gen(seed)
    count = gen.rng.randint(2, 4)
    for name in ns_names(seed, count):
        done = subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ip netns add {name}: {done.stderr.decode(errors='replace')}")
        gen.built.namespaces.append(name)
    nss = gen.built.namespaces
    gen.links(nss)
    gen.addresses(nss)
    gen.routes(nss)
    return gen.built
