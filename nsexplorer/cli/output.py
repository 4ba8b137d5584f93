"""Where CLI output goes: standard output and stderr that never raise on encoding, and
``-o FILE`` that never replaces what it should not.

Text output: every untrusted string is passed through ``textsafe.visible`` by whoever
formats it, so the characters are the same under every locale. :func:`make_streams_safe`
is the last line of defence: with ``errors="backslashreplace"`` a character the locale
cannot encode (``é`` under an ASCII locale, a stray surrogate) is written as ``\\xe9``,
``\\udcff``, never raised as UnicodeEncodeError, never written as a raw byte.

JSON is UTF-8 by definition (RFC 8259) and is written as UTF-8 bytes whatever the
locale: the same bytes as under a UTF-8 locale, and valid JSON under an ASCII one.

``-o FILE`` (:func:`write_file`), chosen by what FILE is now:

- missing: created atomically (a temporary file in the same directory, fsync, then a
  rename that never replaces a file that appeared meanwhile), mode 0600: a snapshot
  lists every namespace, container, pid and hidden mount of the host, so it is private
  to its owner unless the person says otherwise (an existing file keeps its own mode);
- a regular file: replaced atomically, keeping its owner, group and mode (a reader sees
  the old or the new document, never half of one). Like ``sed -i``, this gives the
  name a new inode: other hard links keep the old content, ACLs and xattrs are not
  copied;
- a character device or a FIFO: written through, never replaced (``-o /dev/null``). A
  FIFO without a reader is an error, not a hang;
- a symbolic link: refused. Root writing through a link someone planted (``/tmp/x`` ->
  ``/etc/shadow``) would clobber its target; replacing the link would break whatever
  relies on it (``/dev/stdout``). ``-o -`` is standard output;
- a directory, a block device, a socket: refused. Nothing is written.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys

from nsexplorer.errors import NsxError
from nsexplorer.textsafe import visible


class OutputRefused(NsxError):
    """``-o FILE`` names something nsexplorer will not write (exit 1)."""


def make_streams_safe() -> None:
    """Standard output and error never raise on encoding (see the module docstring)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors != "backslashreplace":
            # a closed or detached stream: nothing to do
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def write_stdout(text: str) -> None:
    """Text to stdout; a failure (`> /dev/full`) is a message, a gone reader is quiet."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # cli.main exits quietly
    except OSError as err:
        raise NsxError(f"cannot write standard output: {err.strerror or err}") from err


def _stdout_bytes(data: bytes) -> None:
    try:
        sys.stdout.flush()  # what was written as text comes first
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a replaced stdout (tests): text is all it takes
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
            return
        buffer.write(data)
        buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise NsxError(f"cannot write standard output: {err.strerror or err}") from err


def write_json(text: str, output: str | None = None) -> None:
    """A JSON document (one line added) to stdout (``None`` or ``-``) or to ``output``."""
    data = (text + "\n").encode("utf-8")
    if not output or output == "-":
        _stdout_bytes(data)
        return
    write_file(output, data)


def check_output(path: str) -> None:
    """Raise OutputRefused now if ``-o path`` would be refused (before the work)."""
    _kind(path)


def _shown(path: str) -> str:
    return f"'{visible(path)}'"


def _kind(path: str) -> str:
    """'new', 'file' or 'stream' for ``path`` as it is now; OutputRefused otherwise."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "new"
    except OSError as err:
        raise NsxError(f"cannot write {_shown(path)}: {err.strerror or err}") from err
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    if stat.S_ISLNK(mode):
        try:
            where = f" (to {_shown(os.readlink(path))})"
        except OSError:
            where = ""
        raise OutputRefused(
            f"{_shown(path)} is a symbolic link{where}: not followed, nothing written; "
            "give the file itself, or `-o -` for standard output"
        )
    what = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise OutputRefused(f"{_shown(path)} is {what}: nothing written")


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` by the rules in the module docstring."""
    try:
        kind = _kind(path)
        if kind == "stream":
            _write_through(path, data)
        else:
            _replace(path, data)
    except NsxError:
        raise
    except OSError as err:
        raise NsxError(f"cannot write {_shown(path)}: {err.strerror or err}") from err


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_through(path: str, data: bytes) -> None:
    """Into a character device or FIFO as it is: no O_CREAT, no O_TRUNC, no rename.

    O_NOFOLLOW: a link swapped in since the check is refused (ELOOP), not followed.
    O_NONBLOCK: opening a FIFO nobody reads fails with ENXIO instead of hanging; it is
    cleared again before writing, so a slow reader is waited for.
    """
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise NsxError(f"{_shown(path)} is a FIFO with no reader: nothing written") from err
        if err.errno == errno.ELOOP:
            _kind(path)  # it became a symbolic link: say so
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise OutputRefused(f"{_shown(path)} changed while it was opened: nothing written")
        os.set_blocking(fd, True)
        _write_all(fd, data)
    finally:
        os.close(fd)


def _replace(path: str, data: bytes) -> None:
    """Atomically: a temporary file next to ``path``, fsync, owner and mode, rename."""
    import tempfile  # only here: `list` does not pay for it

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nsexplorer-", suffix=".tmp", dir=directory)
    try:
        try:
            _write_all(fd, data)
            old = _existing_regular(path)
            if old is not None:
                _copy_owner_and_mode(fd, old, path)
            os.fsync(fd)
        finally:
            os.close(fd)
        if old is None:
            _publish_new(tmp, path)
        else:
            os.replace(tmp, path)
        tmp = ""
    finally:
        if tmp:
            os.unlink(tmp)
    _fsync_directory(directory)


def _copy_owner_and_mode(fd: int, old: os.stat_result, path: str) -> None:
    try:
        # chown first: it clears set-id bits, which chmod then restores
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError as err:
        raise OutputRefused(
            f"cannot keep the owner of {_shown(path)} (uid {old.st_uid}, gid {old.st_gid}): "
            f"{err.strerror}; nothing written"
        ) from err
    os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _existing_regular(path: str) -> os.stat_result | None:
    """The status of the regular file at ``path`` now, None if there is none."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        _kind(path)  # it changed since the check: refuse, saying what it is now
        raise OutputRefused(f"{_shown(path)} changed while it was written: nothing written")
    return st


def _publish_new(tmp: str, path: str) -> None:
    """Give the new file its name, unless something took that name meanwhile."""
    try:
        os.link(tmp, path)  # fails with EEXIST instead of replacing
    except FileExistsError:
        _kind(path)  # a link, a device...: refused
        raise OutputRefused(
            f"{_shown(path)} appeared while it was written: nothing written; run again"
        ) from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise
        os.replace(tmp, path)  # a file system without hard links
        return
    os.unlink(tmp)


def _fsync_directory(directory: str) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass  # some file systems refuse fsync on a directory: the rename is done anyway
    finally:
        os.close(dfd)
