"""The "nat" part: destination-NAT rules of a namespace's nat table (the ports Docker
published for a container: published.py).

Rules are read by running the tools inside the namespace (the caller's thread is in it;
a child process inherits the thread's namespace), read-only, and parsed here:
- `iptables-save` and `ip6tables-save` WITHOUT `-t nat`: with `-t` the legacy backend
  instantiates a missing nat table in that namespace (a change nsexplorer must not
  make), while a plain save lists only the tables that exist; its `*nat` part is read.
  When it warns that legacy tables exist beside nft ones, `iptables-legacy-save` too.
- `nft -j list ruleset` for native nft `dnat` statements. Rules made by iptables-nft
  show there as an `xt` DNAT target without its destination, so they are taken from
  iptables-save instead (the same rule is never listed twice).
Docker's DNAT for published ports lives in the host namespace's table: the reader asks
"the nat rules of namespace X that lead to an address of Y".
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from nsexplorer.model_inside import DnatRule

if TYPE_CHECKING:
    from typing import Any

TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOL_TIMEOUT = 10.0
OUTPUT_LIMIT = 64 << 20
LEGACY_WARNING = "iptables-legacy tables present"


# ---------------------------------------------------------------- iptables-save


def parse_iptables_save(text: str, netns_inode: int, tool: str, family: int) -> list[DnatRule]:
    """Every `-j DNAT` rule of the `*nat` table in iptables-save output."""
    out: list[DnatRule] = []
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if table != "nat" or not line.startswith("-A "):
            continue
        rule = _iptables_rule(line, netns_inode, tool, family)
        if rule is not None:
            out.extend(rule)
    return out


def _tokens(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:  # an unbalanced quote (a name may hold one): plain words
        return line.split()


def _iptables_rule(line: str, netns_inode: int, tool: str, family: int) -> list[DnatRule] | None:
    words = _tokens(line)
    opts: dict[str, str] = {}
    targets: list[str] = []
    negate = False
    i = 1
    chain = words[i] if len(words) > i else ""
    i += 1
    while i < len(words):
        word = words[i]
        if word == "!":
            negate = True
            i += 1
            continue
        value = words[i + 1] if i + 1 < len(words) else ""
        if word in ("-p", "--protocol", "-d", "--destination", "-i", "--in-interface",
                    "--dport", "--destination-port", "--dports", "--destination-ports",
                    "-j", "--jump"):  # fmt: skip
            opts[word] = ("!" if negate else "") + value
            i += 2
        elif word == "--to-destination":
            targets.append(value)
            i += 2
        elif word in ("-m", "--match", "--comment"):  # their value is never an option
            i += 2
        else:
            i += 1
        negate = False
    if opts.get("-j", opts.get("--jump")) != "DNAT" or not targets:
        return None
    common = {
        "protocol": opts.get("-p", opts.get("--protocol", "")),
        "dst": opts.get("-d", opts.get("--destination", "")),
        "in_interface": opts.get("-i", opts.get("--in-interface", "")),
        "dport": opts.get("--dport")
        or opts.get("--destination-port")
        or opts.get("--dports")
        or opts.get("--destination-ports")
        or "",
    }
    rules = []
    for target in targets:
        address, port = split_destination(target, family)
        rules.append(
            DnatRule(
                netns_inode=netns_inode,
                tool=tool,
                family=family,
                table="nat",
                chain=chain,
                to_address=address,
                to_port=port,
                rule=line,
                **common,
            )
        )
    return rules


def split_destination(target: str, family: int) -> tuple[str, str]:
    """'10.0.0.2:80' -> ('10.0.0.2', '80'); '[fd00::2]:443' -> ('fd00::2', '443');
    an IPv6 address without brackets has no port."""
    if target.startswith("["):
        address, _, rest = target[1:].partition("]")
        return address, rest.removeprefix(":")
    if family == 6:
        return target, ""
    address, _, port = target.partition(":")
    return address, port


def legacy_tables_present(text: str) -> bool:
    return LEGACY_WARNING in text


# ---------------------------------------------------------------- nft -j


def parse_nft_json(text: str, netns_inode: int) -> list[DnatRule]:
    """Native `dnat` statements of every table in `nft -j list ruleset` output."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    items = doc.get("nftables") if isinstance(doc, Mapping) else None
    out: list[DnatRule] = []
    for item in items if isinstance(items, list) else ():
        rule = item.get("rule") if isinstance(item, Mapping) else None
        if isinstance(rule, Mapping):
            parsed = _nft_rule(rule, netns_inode)
            if parsed is not None:
                out.append(parsed)
    return out


def _nft_value(v: Any) -> str:
    """An nft JSON right-hand side as nft prints it."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (str, int)):
        return str(v)
    if isinstance(v, Mapping):
        if "set" in v and isinstance(v["set"], list):
            return ",".join(_nft_value(x) for x in v["set"])
        if "range" in v and isinstance(v["range"], list) and len(v["range"]) == 2:
            return f"{_nft_value(v['range'][0])}-{_nft_value(v['range'][1])}"
        prefix = v.get("prefix")
        if isinstance(prefix, Mapping):
            return f"{_nft_value(prefix.get('addr'))}/{_nft_value(prefix.get('len'))}"
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _nft_rule(rule: Mapping[str, Any], netns_inode: int) -> DnatRule | None:
    exprs = rule.get("expr")
    if not isinstance(exprs, list):
        return None
    dnat: Mapping[str, Any] | None = None
    protocol = dport = dst = iif = ""
    words: list[str] = []
    for e in exprs:
        if not isinstance(e, Mapping):
            continue
        if isinstance(e.get("dnat"), Mapping):
            dnat = e["dnat"]
            continue
        m = e.get("match")
        if not isinstance(m, Mapping):
            continue
        left, right = m.get("left"), m.get("right")
        neg = "!" if m.get("op") == "!=" else ""
        op = "!= " if neg else ""
        meta = left.get("meta") if isinstance(left, Mapping) else None
        payload = left.get("payload") if isinstance(left, Mapping) else None
        if isinstance(meta, Mapping) and meta.get("key") == "iifname":
            iif = neg + _nft_value(right)
            words.append(f"iifname {op}{json.dumps(_nft_value(right))}")
        elif isinstance(meta, Mapping) and meta.get("key") == "l4proto":
            protocol = neg + _nft_value(right)
            words.append(f"meta l4proto {op}{_nft_value(right)}")
        elif isinstance(payload, Mapping) and payload.get("field") == "dport":
            protocol = protocol or str(payload.get("protocol", ""))
            dport = neg + _nft_value(right)
            words.append(f"{payload.get('protocol', '')} dport {op}{_nft_value(right)}")
        elif isinstance(payload, Mapping) and payload.get("field") == "daddr":
            dst = neg + _nft_value(right)
            words.append(f"{payload.get('protocol', '')} daddr {op}{_nft_value(right)}")
        else:
            words.append("...")
    if dnat is None or not isinstance(dnat.get("addr"), str):
        return None
    table_family = str(rule.get("family", ""))
    family = 6 if dnat.get("family") == "ip6" or table_family == "ip6" else 4
    port = _nft_value(dnat["port"]) if "port" in dnat else ""
    to = f"[{dnat['addr']}]" if family == 6 and port else str(dnat["addr"])
    words.append(f"dnat to {to}{':' + port if port else ''}")
    return DnatRule(
        netns_inode=netns_inode,
        tool="nft",
        family=family,
        table=f"{table_family} {rule.get('table', '')}",
        chain=str(rule.get("chain", "")),
        to_address=str(dnat["addr"]),
        to_port=port,
        protocol=protocol,
        dport=dport,
        dst=dst,
        in_interface=iif,
        rule=" ".join(words),
    )


# ---------------------------------------------------------------- filtering


def _in(address: str, wanted: set[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    first, _, last = address.partition("-")
    try:
        lo = ipaddress.ip_address(first)
        hi = ipaddress.ip_address(last) if last else lo
    except ValueError:
        return False
    if lo.version != hi.version:
        return False
    return any(w.version == lo.version and int(lo) <= int(w) <= int(hi) for w in wanted)


def leading_to(rules: Iterable[DnatRule], addresses: Iterable[str]) -> list[DnatRule]:
    """The rules whose destination is one of ``addresses`` (or a range holding one)."""
    wanted: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for a in addresses:
        try:
            wanted.add(ipaddress.ip_address(a.split("/", 1)[0]))
        except ValueError:
            continue
    return [r for r in rules if _in(r.to_address, wanted)]


def dedupe(rules: Iterable[DnatRule]) -> list[DnatRule]:
    seen: set[tuple[object, ...]] = set()
    out: list[DnatRule] = []
    for r in rules:
        key = (r.netns_inode, r.family, r.chain, r.protocol, r.dport, r.dst, r.in_interface,
               r.to_address, r.to_port)  # fmt: skip
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


# ---------------------------------------------------------------- running the tools


def _tool(name: str) -> str | None:
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{TOOL_PATH}")


def _run(argv: Sequence[str]) -> tuple[int, str, str]:
    """(status, stdout, first stderr line) of a read-only tool; never raises OSError."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            timeout=TOOL_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            env={"PATH": TOOL_PATH, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired:
        return -1, "", f"no answer within {TOOL_TIMEOUT:g} s"
    except OSError as err:
        return -1, "", str(err.strerror or err)
    out = done.stdout[:OUTPUT_LIMIT]
    err_lines = os.fsdecode(done.stderr[:4096]).strip().splitlines()
    return done.returncode, os.fsdecode(out), err_lines[0] if err_lines else ""


def read_rules(netns_inode: int) -> tuple[list[DnatRule], list[str], str]:
    """(DNAT rules, warnings, why none could be read) of the CALLING THREAD's namespace.

    A tool that fails while another answers is a warning; when none answers (not root,
    say) the rules are unknown, which is not the same as none: the reason says so."""
    rules: list[DnatRule] = []
    warnings: list[str] = []
    tools = answered = 0
    legacy = False

    def save(name: str, family: int) -> str | None:
        nonlocal tools, answered
        path = _tool(name)
        if path is None:
            return None
        tools += 1
        status, text, err = _run([path])
        if status != 0:
            warnings.append(f"{name} failed ({err or f'exit {status}'})")
            return None
        answered += 1
        rules.extend(parse_iptables_save(text, netns_inode, name.removesuffix("-save"), family))
        return text

    for name, family in (("iptables-save", 4), ("ip6tables-save", 6)):
        text = save(name, family)
        legacy = legacy or (text is not None and legacy_tables_present(text))
    if legacy:
        for name, family in (("iptables-legacy-save", 4), ("ip6tables-legacy-save", 6)):
            if _tool(name) is None:
                warnings.append(f"legacy iptables tables exist but {name} is not installed")
            save(name, family)
    nft = _tool("nft")
    if nft is not None:
        tools += 1
        status, text, err = _run([nft, "-j", "list", "ruleset"])
        if status == 0:
            answered += 1
            rules.extend(parse_nft_json(text, netns_inode))
        else:
            warnings.append(f"nft failed ({err or f'exit {status}'})")
    if not tools:
        return [], warnings, "neither iptables-save nor nft is installed"
    if not answered:
        return [], [], "; ".join(warnings)
    return dedupe(rules), warnings, ""
