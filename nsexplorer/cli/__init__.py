"""The composition root: parses the command line and wires collectors, actions and UI.

Handlers are imported lazily so `nsexplorer --help` and `list` never pay for Textual,
and nothing pays for the docker SDK or psutil unless it needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nsexplorer import TYPE_CHECKING, __version__
from nsexplorer.errors import NsxError, TargetError
from nsexplorer.kernel import fdlimit
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from typing import Any


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter without ``import shutil`` (and, through it, bz2, lzma
    and zlib: ~3 ms on every run, help or not, since each add_argument makes one): the
    same width, $COLUMNS, else the terminal's, else 80 (shutil.get_terminal_size)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns(fallback: int = 80) -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = fallback
        columns = columns or fallback
    return columns


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help uses _Formatter; subcommands' parsers are _Parsers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        "--since",
        dest="since_file",
        metavar="FILE",
        help="the TUI's baseline for what changed: a saved snapshot (`nsexplorer snapshot "
        "-o FILE`) instead of its first full read",
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
        "problems",
        help="what is wrong in the wiring; exits 1 when anything is (a health check)",
    )
    p.add_argument("--json", action="store_true", help='JSON: {"problems": [...]}')

    p = sub.add_parser(
        "exec",
        help="run a host command inside a namespace (no CMD: a shell)",
        usage=(
            "nsexplorer exec [-h] [-a] [--read-only] TARGET [-- CMD ...]\n"
            "       nsexplorer exec (--all | --match TEXT) [--parallel N] -- CMD ..."
        ),
        description=(
            "Run a HOST command inside the namespace TARGET, with its own /sys (and "
            "/etc/netns/NAME for named ones), passing its exit status through. The "
            "equivalent shell command is printed to stderr first. Without CMD, a shell."
        ),
        epilog=AUDIT_HELP,
    )
    p.add_argument("target", metavar="TARGET", nargs="?", help=TARGET_HELP)
    p.add_argument(
        "--all",
        dest="every",
        action="store_true",
        help="run CMD in every namespace (no TARGET), results grouped per namespace",
    )
    p.add_argument("--match", metavar="TEXT", help="run CMD in every namespace TEXT matches")
    p.add_argument(
        "--parallel",
        type=_positive_int,
        default=8,
        metavar="N",
        help="with --all/--match: N at a time",
    )
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

    p = sub.add_parser(
        "diff",
        help="what changed between two snapshots (exit 0: none, 1: some, 2: unreadable)",
    )
    p.add_argument("before", metavar="A.json", help="the earlier snapshot")
    p.add_argument("after", metavar="B.json", help="the later snapshot")
    p.add_argument("--json", action="store_true", help="JSON instead of text")

    p = sub.add_parser(
        "capture",
        help="packet capture in a namespace with the host's tcpdump (pcap kept)",
        epilog=AUDIT_HELP,
    )
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument("-i", "--interface", metavar="IFACE", help="default: any")
    p.add_argument("-w", "--write", metavar="FILE", help="pcap path (new file; default in .)")
    p.add_argument("-c", "--count", type=_positive_int, metavar="N", help="stop after N packets")
    p.add_argument("--seconds", type=_positive_float, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--max-bytes",
        type=_positive_int,
        metavar="N",
        help="stop at the first packet that takes the pcap past N bytes",
    )
    _read_only_here(p)
    p.add_argument("filter", nargs="*", metavar="FILTER", help="a tcpdump filter expression")

    p = sub.add_parser(
        "bundle", help="one .tar.gz for the ticket: snapshot, diff, problems, audit, summary"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="default: nsexplorer-HOST-TIME.tar.gz")
    p.add_argument("--since", metavar="BASELINE.json", help="diff against this snapshot")
    p.add_argument(
        "--hours",
        type=_positive_float,
        default=24.0,
        help="without --since, audit entries of the last H hours (default 24)",
    )

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
    _read_only_here(p)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number above 0")
    return value


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
    "A record that cannot be written is a warning on stderr; the action still runs. "
    "--read-only refuses every action."
)

TARGET_HELP = (
    "netns name, container name or id (prefix), label, path to an nsfs file, pid:N, inode, "
    "IP address, CIDR, MAC or interface name; taken exactly as written (see README)"
)


def main(argv: Sequence[str] | None = None) -> int:
    from nsexplorer.cli.output import make_streams_safe

    make_streams_safe()  # text output never raises on encoding, under any locale
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.raw_argv = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # the program itself, not called by another one (tests)
        from nsexplorer.kernel import sessionguard  # here: `list` need not load subprocess

        sessionguard.allow_own_group()
    if extra:
        # argparse gives a '*' positional nothing once an option follows TARGET, so a
        # capture filter written after -i/-c arrives here; anything else is an error.
        if args.command != "capture" or any(word.startswith("-") for word in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.filter = [*args.filter, *extra]
    # Reading every namespace needs descriptors; the readers batch within whatever limit
    # this gives, and commands run for a person get the limit they had (kernel.fdlimit).
    fdlimit.raise_soft_limit()
    try:
        return _dispatch(args)
    except NsxError as err:
        lines = [f"nsexplorer: {visible(err.message)}"]
        if isinstance(err, TargetError):  # the candidates, one a line
            lines += [f"  {visible(line)}" for line in err.candidates]
        try:
            print(*lines, sep="\n", file=sys.stderr, flush=True)
        except BrokenPipeError:  # `2>&1 | head -1`: the reader left; the status stays
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
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
    if command == "diff":
        from nsexplorer.cli import diff

        return diff.run(args)
    if command == "capture":
        from nsexplorer.cli import capture

        return capture.run(args)
    if command == "bundle":
        from nsexplorer.cli import bundle

        return bundle.run(args)
    if command == "problems":
        from nsexplorer.cli import problems

        return problems.run(args)
    if command == "lab":
        from nsexplorer.cli import lab

        return lab.run(args)
    from nsexplorer.cli import tui

    return tui.run(args)
