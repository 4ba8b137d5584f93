"""A process that holds a tun/tap device open, for the tests: attaches one queue to the
device named in argv[1] (TUNSETIFF, in the namespace it is started in), prints "ready",
and sleeps until ended. Flags: "tap" or "tun", and "pi", "vnet_hdr", "multi_queue" when
the device has them (TUNSETIFF sets pi and vnet_hdr as asked; a mismatched mode or
multi_queue is refused)."""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import time

TUNSETIFF = 0x400454CA  # _IOW('T', 202, int)
FLAGS = {"tun": 0x1, "tap": 0x2, "multi_queue": 0x100, "vnet_hdr": 0x4000}
IFF_NO_PI = 0x1000


def main() -> None:
    name, words = sys.argv[1], sys.argv[2:]
    flags = sum(FLAGS[w] for w in words if w in FLAGS) | (0 if "pi" in words else IFF_NO_PI)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), flags))
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
