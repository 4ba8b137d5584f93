"""IFLA_LINKINFO of a link: its kind, the data of the kinds whose data matters (tun/tap,
vxlan) and a bridge port's STP state, decoded in place as rtnl_decode does. Only the
kind's own table is walked, and only for those kinds: most links carry no data worth it.
"""

from __future__ import annotations

from typing import Any

from nsexplorer.kernel import netlink
from nsexplorer.kernel.netlink import AttrTable, Buf, walk
from nsexplorer.kernel.rtnl_attrs import be16, ip, span, text, u8, u32
from nsexplorer.model_net import Tun, Vxlan

IFF_TUN = 1
IFF_TAP = 2
TUN_MEMO_LIMIT = 8192


# IFLA_INFO_DATA of the kinds whose data matters: vxlan's lower device and tunnel
# (tun/tap's: _TUN_DATA).
_INFO_DATA: dict[str, AttrTable] = {
    "vxlan": {
        1: ("vni", u32),  # IFLA_VXLAN_ID
        2: ("group", ip),  # IFLA_VXLAN_GROUP (a remote, or a multicast group)
        3: ("lower", u32),  # IFLA_VXLAN_LINK
        4: ("local", ip),  # IFLA_VXLAN_LOCAL
        15: ("port", be16),  # IFLA_VXLAN_PORT
        16: ("group", ip),  # IFLA_VXLAN_GROUP6
        17: ("local", ip),  # IFLA_VXLAN_LOCAL6
        25: ("external", u8),  # IFLA_VXLAN_COLLECT_METADATA
    },
}
# A tun/tap's IFLA_INFO_DATA: its mode, owner and queues (the queue counts decide its
# carrier). Owner and group are sent only when set, the counts only for multi_queue.
_TUN_DATA: AttrTable = {
    1: ("tun_user", u32),  # IFLA_TUN_OWNER
    2: ("tun_group", u32),  # IFLA_TUN_GROUP
    3: ("tun_type", u8),  # IFLA_TUN_TYPE
    4: ("pi", u8),  # IFLA_TUN_PI
    5: ("vnet_hdr", u8),  # IFLA_TUN_VNET_HDR
    6: ("persist", u8),  # IFLA_TUN_PERSIST
    7: ("multi_queue", u8),  # IFLA_TUN_MULTI_QUEUE
    8: ("queues", u32),  # IFLA_TUN_NUM_QUEUES
    9: ("disabled_queues", u32),  # IFLA_TUN_NUM_DISABLED_QUEUES
}
# In IFLA_INFO_SLAVE_DATA of a bridge port: its STP state (a bridge has carrier only
# while one of its ports forwards); the kernel puts it first of ~40 attributes.
IFLA_BRPORT_STATE = 1
_LINKINFO: AttrTable = {
    1: ("kind", text),  # IFLA_INFO_KIND
    2: ("data", span),  # IFLA_INFO_DATA
    4: ("slave_kind", text),  # IFLA_INFO_SLAVE_KIND
    5: ("slave_data", span),  # IFLA_INFO_SLAVE_DATA
}


def linkinfo(buf: Buf, a: int, b: int) -> dict[str, Any]:
    """IFLA_LINKINFO: "kind", "slave_kind", the kind's data (vxlan's keys, or "tun": a
    Tun) and a bridge port's "port_state"."""
    info = walk(buf, a, b, _LINKINFO)
    data = info.pop("data", None)
    if data is not None:
        kind = info.get("kind", "")
        if kind == "tun":
            info["tun"] = _tun_data(buf, data[0], data[1])
        elif (table := _INFO_DATA.get(kind)) is not None:
            info.update(walk(buf, data[0], data[1], table))
    slave = info.pop("slave_data", None)
    if slave is not None and info.get("slave_kind") == "bridge":
        state = netlink.find(buf, slave[0], slave[1], IFLA_BRPORT_STATE)
        if state is not None:
            info["port_state"] = u8(buf, *state)
    return info


_TUNS: dict[bytes, Tun] = {}


def _tun_data(buf: Buf, a: int, b: int) -> Tun:
    """A tun/tap's data, remembered by its bytes (it changes only when a queue attaches
    or detaches, and a Tun is immutable): every read of a host with many VMs' taps
    decodes each once."""
    key = bytes(buf[a:b])
    tun = _TUNS.get(key)
    if tun is None:
        if len(_TUNS) >= TUN_MEMO_LIMIT:
            _TUNS.clear()
        tun = _TUNS[key] = _tun(walk(buf, a, b, _TUN_DATA))
    return tun


_TUN_TYPES = {IFF_TUN: "tun", IFF_TAP: "tap"}


def _tun(info: dict[str, Any]) -> Tun:
    get = info.get
    # Tun's fields in order, positionally: cheaper than by keyword (as parse_link's).
    return Tun(
        _TUN_TYPES.get(get("tun_type", 0), "unknown"),  # type, in ip's words
        bool(get("pi")),
        bool(get("vnet_hdr")),
        bool(get("persist")),
        bool(get("multi_queue")),
        get("tun_user"),
        get("tun_group"),
        get("queues"),
        get("disabled_queues"),
    )


def vxlan(info: dict[str, Any]) -> Vxlan:
    return Vxlan(
        vni=info.get("vni", 0),
        remote=info.get("group"),
        local=info.get("local"),
        port=info.get("port"),
        external=bool(info.get("external")),
    )
