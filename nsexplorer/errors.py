"""Errors that carry a message meant for the person at the terminal."""

from __future__ import annotations


class NsxError(Exception):
    """Base error: ``str(err)`` is a complete, user-facing sentence."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NamespaceGone(NsxError):
    """The namespace (or the process/container that held it) vanished."""


class NeedsRoot(NsxError):
    """The operation needs privileges nsexplorer does not have."""


class EngineUnavailable(NsxError):
    """The container engine is absent, refuses connections, or does not answer."""


class TargetError(NsxError):
    """A TARGET given on the command line or in the UI could not be resolved."""

    exit_code = 2

    def __init__(self, message: str, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = candidates


class TargetNotFound(TargetError):
    pass


class TargetAmbiguous(TargetError):
    pass


class ReadOnlyRefused(NsxError):
    """An action was refused because nsexplorer runs with --read-only."""

    exit_code = 3


class ActionFailed(NsxError):
    """An action could not be carried out (name exists, command not found, ...)."""
