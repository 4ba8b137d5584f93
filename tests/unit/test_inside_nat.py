"""NAT: iptables-save and `nft -j` output (recorded from a throwaway namespace), the
"leading to" filter, and Docker's published ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsexplorer.collect.inside import nat
from nsexplorer.model_inside import DnatRule

FIXTURES = Path(__file__).parent / "fixtures"

# iptables-save v1.8.9 (nf_tables) of a throwaway netns, plus lines a Docker host has.
IPTABLES_SAVE = (FIXTURES / "inside_iptables_save.txt").read_text()

ANY4 = "0.0.0.0"  # noqa: S104 - an address in test data, nothing binds


def test_iptables_save_dnat_rules_of_the_nat_table_only() -> None:
    rules = nat.parse_iptables_save(IPTABLES_SAVE, 42, "iptables", 4)
    assert [
        (r.chain, r.protocol, r.dport, r.dst, r.in_interface, r.to_address, r.to_port)
        for r in rules
    ] == [
        ("NSXH9-DOCKER", "tcp", "8080", "", "!nsxh9-br0", "10.249.7.2", "80"),
        ("NSXH9-DOCKER", "udp", "53", "10.0.0.1/32", "", "10.249.7.3", ""),
        ("NSXH9-DOCKER", "tcp", "81,82", "", "", "10.249.7.4-10.249.7.6", "90-91"),
    ]
    assert all(r.netns_inode == 42 and r.table == "nat" and r.tool == "iptables" for r in rules)
    assert rules[0].rule.startswith("-A NSXH9-DOCKER ! -i nsxh9-br0")


def test_ip6tables_destinations_with_and_without_a_port() -> None:
    text = (
        "*nat\n"
        "-A PREROUTING -p tcp -m tcp --dport 8443 -j DNAT --to-destination [fd00::2]:443\n"
        "-A PREROUTING -p tcp -m tcp --dport 8444 -j DNAT --to-destination fd00::3\n"
        "COMMIT\n"
    )
    rules = nat.parse_iptables_save(text, 1, "ip6tables", 6)
    assert [(r.family, r.to_address, r.to_port) for r in rules] == [
        (6, "fd00::2", "443"),
        (6, "fd00::3", ""),
    ]


def test_a_name_with_an_unbalanced_quote_does_not_break_the_parse() -> None:
    text = '*nat\n-A P -i a"b -p tcp --dport 1 -j DNAT --to-destination 10.0.0.1:2\nCOMMIT\n'
    (rule,) = nat.parse_iptables_save(text, 1, "iptables", 4)
    assert (rule.in_interface, rule.to_address, rule.to_port) == ('a"b', "10.0.0.1", "2")


def test_legacy_tables_are_noticed() -> None:
    assert nat.legacy_tables_present(
        "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n"
    )
    assert not nat.legacy_tables_present(IPTABLES_SAVE)


def test_nft_native_dnat_statements_and_not_iptables_nft_compat_targets() -> None:
    text = (FIXTURES / "inside_nft_ruleset.json").read_text()
    rules = nat.parse_nft_json(text, 7)
    # The recorded ruleset also holds the iptables-nft rules of `ip nat` (xt DNAT
    # targets, whose destination nft cannot print): those come from iptables-save.
    assert [
        (
            r.table,
            r.chain,
            r.protocol,
            r.dport,
            r.dst,
            r.in_interface,
            r.family,
            r.to_address,
            r.to_port,
        )
        for r in rules
    ] == [
        ("inet nsxh9", "pre", "tcp", "9090", "", "eth0", 4, "10.249.7.5", "90"),
        ("inet nsxh9", "pre", "tcp", "81,82", "10.1.1.1", "", 4, "10.249.7.6", ""),
        ("inet nsxh9", "pre", "tcp", "7000-7010", "", "", 6, "fd00::7", "7000"),
    ]
    assert rules[0].rule == 'iifname "eth0" tcp dport 9090 dnat to 10.249.7.5:90'
    assert rules[2].rule == "tcp dport 7000-7010 dnat to [fd00::7]:7000"
    assert all(r.tool == "nft" and r.netns_inode == 7 for r in rules)


def test_nft_garbage_is_no_rules() -> None:
    assert nat.parse_nft_json("not json", 1) == []
    assert nat.parse_nft_json('{"nftables": [{"rule": {"expr": 5}}]}', 1) == []


def rule(to: str, port: str = "") -> DnatRule:
    return DnatRule(1, "iptables", 6 if ":" in to else 4, "nat", "DOCKER", to, port)


def test_leading_to_matches_addresses_and_ranges_of_the_same_family() -> None:
    rules = [rule("10.0.0.2", "80"), rule("10.0.0.9"), rule("10.0.0.1-10.0.0.5"), rule("fd00::2")]
    got = nat.leading_to(rules, ["10.0.0.2/24", "fd00::2", "not an ip"])
    assert [r.to_address for r in got] == ["10.0.0.2", "10.0.0.1-10.0.0.5", "fd00::2"]
    assert nat.leading_to(rules, []) == []
    assert nat.leading_to([rule("::-ffff::")], ["10.0.0.2"]) == []


def test_the_same_rule_seen_by_two_tools_is_listed_once() -> None:
    a = rule("10.0.0.2", "80")
    b = DnatRule(1, "nft", 4, "ip nat", "DOCKER", "10.0.0.2", "80")
    assert nat.dedupe([a, b, rule("10.0.0.3")]) == [a, rule("10.0.0.3")]


def test_rules_nobody_could_read_are_unknown_not_none(monkeypatch: pytest.MonkeyPatch) -> None:
    denied = (1, "", "Permission denied (you must be root)")
    monkeypatch.setattr(nat, "_tool", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(nat, "_run", lambda argv: denied)
    rules, warnings, why = nat.read_rules(1)
    assert rules == [] and warnings == []
    assert "iptables-save failed (Permission denied" in why and "nft failed" in why


def test_one_tool_failing_beside_others_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "iptables-save": (0, IPTABLES_SAVE, ""),
        "ip6tables-save": (1, "", "no ip6 tables here"),
        "nft": (0, (FIXTURES / "inside_nft_ruleset.json").read_text(), ""),
    }
    monkeypatch.setattr(nat, "_tool", lambda name: name if name in answers else None)
    monkeypatch.setattr(nat, "_run", lambda argv: answers[argv[0]])
    rules, warnings, why = nat.read_rules(1)
    assert why == "" and warnings == ["ip6tables-save failed (no ip6 tables here)"]
    assert {r.tool for r in rules} == {"iptables", "nft"} and len(rules) == 6


def test_legacy_tables_are_read_when_iptables_nft_says_they_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    legacy_rule = "*nat\n-A P -p tcp --dport 1 -j DNAT --to-destination 10.0.0.9:2\nCOMMIT\n"
    answers = {
        "iptables-save": (0, f"# Warning: {nat.LEGACY_WARNING}, use iptables-legacy-save\n", ""),
        "iptables-legacy-save": (0, legacy_rule, ""),
    }
    monkeypatch.setattr(nat, "_tool", lambda name: name if name in answers else None)
    monkeypatch.setattr(nat, "_run", lambda argv: answers[argv[0]])
    rules, warnings, why = nat.read_rules(1)
    assert why == ""
    assert [(r.tool, r.to_address) for r in rules] == [("iptables-legacy", "10.0.0.9")]
    assert warnings == ["legacy iptables tables exist but ip6tables-legacy-save is not installed"]
