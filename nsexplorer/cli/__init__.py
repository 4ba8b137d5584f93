"""The composition root: parses the command line and wires collectors, actions and UI.

Handlers are imported lazily so `nsexplorer --help` and `list` never pay for Textual,
and nothing pays for the docker SDK or psutil unless it needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nsexplorer import __version__
from nsexplorer.errors import NsxError
from nsexplorer.textsafe import visible


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nsexplorer",
        description=(
            "See and act on every network namespace on this host: the host's, `ip netns` "
            "names, Docker containers, plain processes, and namespaces hidden in another "
            "mount namespace. With no command, opens the terminal UI."
        ),
    )
    parser.add_argument("--version", action="version", version=f"nsexplorer {__version__}")
    parser.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="browse a saved snapshot (from `nsexplorer snapshot -o FILE`) read-only",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every action that runs a command or changes anything",
    )
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="do not capture the mouse (keeps the terminal's own text selection)",
    )
    parser.add_argument(
        "--mouse",
        action="store_true",
        help="capture the mouse even over SSH (off by default when SSH_CONNECTION or "
        "SSH_TTY is set: every pointer motion costs a repaint on the link)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="one row per namespace, from cheap sources only")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument("--wide", action="store_true", help="add interface count and addresses")

    p = sub.add_parser("snapshot", help="everything, as one JSON document (schema 1)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    p = sub.add_parser("show", help="one namespace in detail")
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument("--json", action="store_true", help="JSON instead of text")

    p = sub.add_parser(
        "exec",
        help="run a host command inside a namespace (no CMD: a shell)",
        usage="nsexplorer exec [-h] [-a] [--read-only] TARGET [-- CMD ...]",
        description=(
            "Run a HOST command inside the namespace TARGET, with its own /sys (and "
            "/etc/netns/NAME for named ones), passing its exit status through. The "
            "equivalent shell command is printed to stderr first. Without CMD, a shell."
        ),
        epilog=AUDIT_HELP,
    )
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument(
        "-a",
        "--all-namespaces",
        action="store_true",
        help="enter all of the container's namespaces (mount, uts, ipc, pid, net)",
    )
    _read_only_here(p)
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ...")

    p = sub.add_parser("name", help="expose a namespace to `ip netns` as NAME", epilog=AUDIT_HELP)
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument("name", metavar="NAME", help="the name to create under /var/run/netns")
    _read_only_here(p)

    p = sub.add_parser("unname", help="remove a name made by `nsexplorer name`", epilog=AUDIT_HELP)
    p.add_argument("name", metavar="NAME", help="the name to remove from /var/run/netns")
    _read_only_here(p)

    p = sub.add_parser("lab", help="build or remove a throwaway test topology")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--no-docker", action="store_true", help="skip the Docker part")
    p.add_argument(
        "--size",
        type=int,
        default=0,
        metavar="N",
        help="also make N extra namespaces on the lab bridge (for benchmarks)",
    )
    return parser


def _read_only_here(parser: argparse.ArgumentParser) -> None:
    """Accept --read-only after the subcommand too: a refusal must not depend on where
    the option was typed (SUPPRESS keeps the global value when it is absent here)."""
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse this action (same as the global option)",
    )


AUDIT_HELP = (
    "Every action is appended to an audit log (one JSON line: time, namespace, argv, exit "
    "status, user): $NSX_AUDIT_LOG if set, else /var/log/nsexplorer/audit.log, else "
    "$XDG_STATE_HOME/nsexplorer/audit.log (~/.local/state/...) when that is not writable. "
    "--read-only refuses every action."
)

TARGET_HELP = (
    "container name or id prefix, netns name, path to an nsfs file, pid:N, or inode number"
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except NsxError as err:
        print(f"nsexplorer: {visible(err.message)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`nsexplorer list | head -1`): quiet, like SIGPIPE. Point
        # stdout at /dev/null so the interpreter's final flush does not complain too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


def _dispatch(args: argparse.Namespace) -> int:
    command: str | None = args.command
    if command in ("list", "snapshot", "show"):
        from nsexplorer.cli import discovery

        return discovery.run(args)
    if command in ("exec", "name", "unname"):
        from nsexplorer.cli import actions

        return actions.run(args)
    if command == "lab":
        from nsexplorer.cli import lab

        return lab.run(args)
    from nsexplorer.cli import tui

    return tui.run(args)
