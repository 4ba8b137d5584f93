"""The lab's firewall rule: which `iptables -S FORWARD` lines are its own (pure parsing)."""

from __future__ import annotations

from nsexplorer.lab import firewall

DOCKER_HOST_FORWARD = """\
-P FORWARD DROP
-A FORWARD -i nsxlab+ -o nsxlab+ -m comment --comment nsxlab -j ACCEPT
-A FORWARD -i nsxtb0 -o nsxtb0 -m comment --comment nsx-testbed -j ACCEPT
-A FORWARD -j DOCKER-USER
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A FORWARD -i br0 -m comment --comment "nsxlab lookalike" -j ACCEPT
-A FORWARD -i br1 -m comment --comment nsxlabX -j ACCEPT
-A FORWARD -i nsxlab+ -o nsxlab+ -m comment --comment nsxlab -j ACCEPT
"""


def test_lab_rules_are_exactly_those_with_its_comment() -> None:
    found = firewall.lab_rules(DOCKER_HOST_FORWARD)
    assert found == [list(firewall.RULE), list(firewall.RULE)]  # a duplicate goes too


def test_lab_rules_ignore_unparsable_lines() -> None:
    assert firewall.lab_rules('-A FORWARD -m comment --comment "unclosed -j ACCEPT\n') == []


def test_own_accept_rules_do_not_make_a_chain_filtering() -> None:
    own = [ln for ln in DOCKER_HOST_FORWARD.splitlines() if firewall._is_own_accept(ln)]
    assert own == [
        "-A FORWARD -i nsxlab+ -o nsxlab+ -m comment --comment nsxlab -j ACCEPT",
        "-A FORWARD -i nsxtb0 -o nsxtb0 -m comment --comment nsx-testbed -j ACCEPT",
        "-A FORWARD -i nsxlab+ -o nsxlab+ -m comment --comment nsxlab -j ACCEPT",
    ]
