"""CLI handlers: exec, name, unname."""

from __future__ import annotations

import argparse
import sys

from nsexplorer.actions.naming import require_free
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.errors import ActionFailed, ReadOnlyRefused
from nsexplorer.model import NamespaceId, NetNamespace, describe
from nsexplorer.shellquote import quote
from nsexplorer.textsafe import visible

_ALL_FLAGS = ("-a", "--all-namespaces")


DOCKER_TIMEOUT = 3.0


def run(args: argparse.Namespace) -> int:
    """exec, name or unname. The equivalent command is printed only once every check
    passed, just before the action: a refused action prints none (nothing ran)."""
    if getattr(args, "from_file", None):
        raise ReadOnlyRefused(
            "--from browses a saved snapshot: actions need the live host; nothing was run"
        )
    command: str = args.command
    if command == "exec":
        take_exec_flags(args)
    runner = NamespaceRunner(read_only=args.read_only)
    try:
        return _act(command, args, runner)
    finally:
        # The action ran (or was refused) either way; say what went wrong around it.
        for warning in runner.take_warnings():
            print(f"nsexplorer: warning: {visible(warning)}", file=sys.stderr, flush=True)


def _act(command: str, args: argparse.Namespace, runner: NamespaceRunner) -> int:
    if command == "unname":
        runner.refuse_if_read_only(f"remove the name {args.name!r}")
        runner.unname(args.name, announce=_print_command)
        print(f"removed the name {quote(args.name)} (/var/run/netns/{visible(args.name)})")
        return 0
    if command == "name":
        runner.refuse_if_read_only(f"name a namespace {args.name!r}")
        require_free(args.name)
        ns = resolve_target(args.target)
        path = runner.name(ns, args.name, announce=_print_command)
        print(f"named {visible(describe(ns))} as {quote(args.name)}: {visible(path)}")
        print(f"# ip netns exec {quote(args.name)} CMD ...")
        return 0
    return _exec(args, runner)


def _print_command(command: str) -> None:
    print(f"# {command}", file=sys.stderr, flush=True)


def take_exec_flags(args: argparse.Namespace) -> None:
    """Move our own flags written after TARGET out of the command, up to the ``--``.

    argparse's REMAINDER swallows options written after TARGET (``exec T -a -- cmd``);
    ``--read-only`` there must still refuse, never become the command's first word.
    """
    rest = list(args.argv)
    while rest and rest[0] in (*_ALL_FLAGS, "--read-only"):
        if rest.pop(0) == "--read-only":
            args.read_only = True
        else:
            args.all_namespaces = True
    if rest and rest[0] == "--":
        rest.pop(0)
    args.argv = rest


def _exec(args: argparse.Namespace, runner: NamespaceRunner) -> int:
    if args.match == "":
        raise ActionFailed("--match needs a TEXT (an empty one would match everything)")
    if args.every or args.match is not None:
        from nsexplorer.cli import fanout

        if args.every and args.match is not None:
            raise ActionFailed("give --all or --match TEXT, not both")
        # No TARGET with --all/--match: what argparse took for it is the command's
        # first word, unless a `--` came after it (argparse drops the `--` itself).
        command = [args.target, *args.argv] if args.target is not None else list(args.argv)
        raw: list[str] = getattr(args, "raw_argv", [])
        if "--" in raw and raw[raw.index("--") + 1 :] != command:
            raise ActionFailed(
                f"--all/--match take no TARGET ({quote(args.target)} given before --): "
                "write `exec --all -- CMD` or `exec TARGET -- CMD`"
            )
        return fanout.run(args, runner, command)
    if args.target is None:
        raise ActionFailed("exec needs a TARGET (or --all / --match TEXT)")
    all_ns, cmd = args.all_namespaces, args.argv
    runner.refuse_if_read_only("run a command")
    ns = resolve_target(args.target)
    via = named_container_pid(args.target, ns) if all_ns else None
    return runner.run_attached(
        ns, cmd, all_namespaces=all_ns, via_pid=via, announce=_print_equivalent
    )


def _print_equivalent(command: str, seed: str | None) -> None:
    """What runs, as the command a person would paste (a comment on stderr: stdout stays
    the command's). nsexplorer itself enters through the descriptors it verified."""
    print(f"# {command}", file=sys.stderr)
    if seed:
        print(f"# or, as in the seed article (keeps the host's /sys): {seed}", file=sys.stderr)
    sys.stderr.flush()


def named_container_pid(target: str, ns: NetNamespace) -> int | None:
    """The pid of the container TARGET names, if it names one of ``ns``'s containers.

    Several containers may share one network namespace (host mode, container: mode);
    --all-namespaces must enter the one the person named, not just any of them.
    """
    bare = target.removeprefix("/")
    for c in ns.containers:
        if c.pid and bare in (c.name, c.id):
            return c.pid
    prefix = [c for c in ns.containers if c.pid and len(bare) >= 4 and c.id.startswith(bare)]
    return prefix[0].pid if len(prefix) == 1 else None


def resolve_target(target: str) -> NetNamespace:
    """The live namespace TARGET designates (TargetNotFound/TargetAmbiguous: exit 2)."""
    from nsexplorer.cli.discovery import find_target
    from nsexplorer.collect.source import LiveSource

    ns, _ = find_target(LiveSource(docker_timeout=DOCKER_TIMEOUT), target)
    return ns


def _stat_target(target: str) -> tuple[NamespaceId | None, str]:
    """As for `show`: the same paths resolve the same way (no symlink followed)."""
    from nsexplorer.cli.discovery import _stat_target as stat_target

    return stat_target(target)
