"""What is inside one network namespace, read on demand (never in the sweep): sockets
with their processes, ARP/NDP neighbours, the bridge FDB, DNAT rules and Docker's
published ports, the conntrack count. ``reader.read`` is the entry point."""
