"""Writing outputs so that nothing a user had is lost: a file or a folder is replaced whole or not at all.

One way to write, used by every command:

* **check before work** — :func:`check_output_file` / :func:`check_output_dir` run before any
  computation: the folder exists and is writable, the target is absent or of the right kind. A
  folder output is replaced only if neurocal wrote it as the same kind and it holds nothing else
  (every file listed, unchanged, in its manifest); a folder written into (runs, plots, caches) is
  never one written as a whole. Otherwise the command is refused, naming the foreign files. A
  device node, FIFO or socket is never replaced (``--out /dev/null`` is refused, not deleted);
  a **symlink is written through**: its target is replaced and the link keeps pointing at it.
  (A *hard* link elsewhere keeps the old content: the name gets a new inode, as with any atomic save.)
* **temporary sibling, fsync, atomic swap** — :func:`atomic_path` (a path to write to),
  :func:`atomic_file` (a binary file object), :func:`atomic_h5` (an open ``h5py.File``) and
  :func:`write_text_atomic` for one file; :func:`atomic_dir` for a multi-file output (bundle,
  run directory, report), built in a temporary sibling folder and swapped in as a whole
  (``renameat2(RENAME_EXCHANGE)`` where the kernel has it). A folder written this way holds a
  manifest written last (:data:`MANIFEST`): :func:`check_complete` is how a reader detects a torn
  or hand-edited one.
* **cleanup on every exit path** — exceptions, SIGINT and SIGTERM: while an output is being
  written, SIGINT/SIGTERM are *recorded* rather than raised inside library code (h5py swallows a
  ``KeyboardInterrupt`` raised in its callbacks and would carry on and commit); writers call
  :func:`check_interrupt` between chunks, and nothing is committed after a signal arrived. A signal
  that arrives once an output is committed does not undo it: it stops the next output
  (:func:`late_signal`), and the CLI ends a command that has finished with exit 0.
  :func:`install_signal_handlers` (called by the CLI) turns SIGTERM/SIGHUP into
  :class:`~neurocal.errors.Terminated` so ``finally`` blocks run, and ignores SIGXFSZ so that a
  file-size limit surfaces as an ``EFBIG`` error instead of killing the process.
* **disk full** (ENOSPC, EFBIG, EDQUOT) ends in one :class:`~neurocal.errors.NeurocalError`
  naming the file, with the temporary removed and the old file intact. HDF5 (2.0) segfaults
  when it closes a file after a failed write, so :func:`atomic_file` hands libraries a file
  object that records the first write error and swallows the rest; the error is raised once
  the library has let go.
* new files get the user's umask (``0o666 & ~umask``); a replaced file keeps its mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fnmatch
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from neurocal.errors import NeurocalError, Terminated

DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
MANIFEST = "neurocal-manifest.json"
MANIFEST_SCHEMA = "neurocal.manifest/1"

# ----------------------------------------------------------------------------------------------- signals

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_pending: list[int] = []
_late: list[int] = []  # recorded after an output was committed (see _committed)
_defer_depth = 0


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


_owner_pid = os.getpid()


def _raise_terminated(signum: int, _frame: Any) -> None:
    if os.getpid() != _owner_pid:  # a forked worker (e.g. Lava's runtime): die as it would have without us
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _raise_for(signum)


def install_signal_handlers() -> None:
    """CLI start-up: SIGTERM/SIGHUP unwind as :class:`Terminated`; SIGXFSZ is ignored so writes raise EFBIG."""
    global _owner_pid
    if threading.current_thread() is not threading.main_thread():
        return
    _owner_pid = os.getpid()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) != signal.SIG_IGN:  # nohup'd: keep ignoring
            signal.signal(signum, _raise_terminated)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _record(signum: int, _frame: Any) -> None:
    _pending.append(signum)
    if len(_pending) > 1:  # asked twice: stop now (nothing is committed anyway, see check_interrupt)
        _raise_for(signum)


def check_interrupt() -> None:
    """Raise the SIGINT/SIGTERM that arrived while signals were deferred (call it between chunks).

    Also one that arrived just after an output was committed (see :func:`late_signal`): the next
    output is not started.
    """
    if _pending or _late:
        signum = (_pending or _late)[0]
        _pending.clear()
        _late.clear()
        _raise_for(signum)


def _committed() -> None:
    """An output is whole in its place: a signal recorded from now on comes *after* it, not during it."""
    _late.extend(_pending[:1])
    _pending.clear()


def late_signal() -> int | None:
    """The SIGINT/SIGTERM that arrived after the last output was committed and that nothing has raised yet.

    The CLI ends such a command with exit 0 (its outputs are whole and in place) and a note.
    """
    return _late[0] if _late else None


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Record SIGINT/SIGTERM/SIGHUP instead of raising them inside library code; raise on leaving.

    Nested uses share one record. Outside the main thread (where handlers cannot be set) it does nothing.
    """
    global _defer_depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, Any] = {}
    if _defer_depth == 0:
        check_interrupt()  # asked to stop after the previous output: do not start this one
        _pending.clear()
        for signum in _STOP_SIGNALS:
            old = signal.getsignal(signum)
            saved[signum] = old
            if old != signal.SIG_IGN:
                signal.signal(signum, _record)
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
        if _defer_depth == 0:
            for signum, old in saved.items():
                signal.signal(signum, old if old is not None else signal.SIG_DFL)
    if _defer_depth == 0 and _pending:  # (a signal after the last commit stays late: see late_signal)
        signum = _pending[0]
        _pending.clear()
        _raise_for(signum)


def ignore_stop_signals() -> None:
    """The command has finished: a SIGINT/SIGTERM/SIGHUP from now on must not turn its exit 0 into 130/143."""
    if threading.current_thread() is threading.main_thread():
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


# ----------------------------------------------------------------------------------------------- checks


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _resolve(target: Path) -> Path:
    """Follow a symlink (chain) to the path it names: outputs are written through links."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _check_parent(target: Path, shown: Path, option: str) -> None:
    parent = target.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise NeurocalError(f"{shown}: directory {parent} {what}; create it or choose another {option}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NeurocalError(f"{shown}: directory {parent} is not writable; choose another {option}")


def check_output_file(target: str | os.PathLike[str], option: str = "--out") -> Path:
    """Fail before any work if ``target`` cannot be replaced by a new regular file; return the path to write.

    The folder must exist and be writable; an existing target must be a regular file (a symlink
    is followed: the file it points to is what gets replaced).
    """
    shown = Path(target)
    final = _resolve(shown)
    _check_parent(final, shown, option)
    try:
        st = final.stat()
    except FileNotFoundError:
        return final
    except OSError as err:
        raise NeurocalError(f"{shown}: cannot check ({err.strerror}); choose another {option}") from err
    if stat.S_ISDIR(st.st_mode):
        raise NeurocalError(f"{shown}: is a directory; {option} must name a file")
    if not stat.S_ISREG(st.st_mode):
        raise NeurocalError(f"{shown}: is {_kind(st.st_mode)}, which neurocal never replaces; "
                            f"choose a regular file for {option}")
    return final


def check_output_dir(target: str | os.PathLike[str], option: str = "--out", kind: str | None = None,
                     known_files: Iterable[str] = (), products: Iterable[str] = ()) -> Path:
    """Fail before any work if ``target`` cannot become (or be replaced by) an output folder; return the path.

    The one rule for folder outputs. With ``kind`` (an :func:`atomic_dir` output) an existing folder is
    replaced only if neurocal wrote it as that kind and it holds nothing else: it is empty, or its
    manifest says ``kind`` and every file in it is listed there unchanged (files matching the glob
    patterns ``products`` — what a build adds in place, e.g. ``firmware/*.so`` — count as its own), or
    it holds nothing but ``known_files`` (written before manifests existed). Anything else is refused,
    naming the foreign files, so that neither ``--out ~`` nor a user's ``notes.txt`` beside a bundle is
    ever deleted. Without ``kind`` the folder is written into (a run directory, a plot folder): it must
    be a writable directory, or be creatable under the nearest existing ancestor, and must not be a
    folder written as a whole (it holds :data:`MANIFEST`): adding files would break its manifest.
    """
    shown = Path(target)
    final = _resolve(shown)
    if final.exists() and not final.is_dir():
        raise NeurocalError(f"{shown}: is {'a file' if final.is_file() else _kind(final.stat().st_mode)}; "
                            f"{option} must name a directory")
    if kind is None:
        if (final / MANIFEST).is_file():
            found = _read_manifest_json(final / MANIFEST).get("kind")
            raise NeurocalError(f"{shown}: holds a neurocal {found} (written as a whole, checked by its {MANIFEST}); "
                                f"files added to it would break it: choose another {option}")
        existing = final
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise NeurocalError(f"{shown}: {existing} is not a directory; choose another {option}")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise NeurocalError(f"{shown}: directory {existing} is not writable; choose another {option}")
        return final
    _check_parent(final, shown, option)
    if final.is_dir():
        names = {p.name for p in final.iterdir()}
        if MANIFEST in names:
            manifest = _read_manifest_json(final / MANIFEST)
            found = manifest.get("kind")
            if found != kind:
                raise NeurocalError(f"{shown}: holds a neurocal {found}, not a {kind}; choose another {option}")
            extra, changed = _foreign_files(final, manifest, products)
            if extra or changed:
                what = "; ".join(part for part in (
                    extra and f"not written by neurocal: {_listing(extra)}",
                    changed and f"changed since neurocal wrote them: {_listing(changed)}") if part)
                raise NeurocalError(f"{shown}: holds files that would be lost ({what}); neurocal replaces only a "
                                    f"{kind} it wrote, holding nothing else: move them out or choose another {option}")
        elif names and not names <= set(known_files):
            raise NeurocalError(f"{shown}: holds files that are not a neurocal {kind} (no {MANIFEST}: "
                                f"{_listing(sorted(names - set(known_files)))}); neurocal replaces only its own "
                                f"outputs: remove them or choose another {option}")
        if not os.access(final, os.W_OK | os.X_OK):
            raise NeurocalError(f"{shown}: directory is not writable; choose another {option}")
    return final


def _listing(names: list[str], most: int = 5) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


# ----------------------------------------------------------------------------------------------- files


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(final: Path, suffix: str) -> Path:
    return final.parent / f".{final.name}.{secrets.token_hex(4)}{suffix or '.tmp'}"


def _disk_full(err: BaseException, tmp: Path) -> bool:
    """Did ``err`` come from a full disk / file-size limit (also when a library hid the errno)?"""
    if isinstance(err, OSError) and err.errno in DISK_FULL:
        return True
    text = str(err)
    if any(s in text for s in ("No space left", "File too large", "Disk quota exceeded")):
        return True
    try:
        from neurocal.limits import free_disk

        return free_disk(tmp.parent) <= (tmp.stat().st_size if tmp.exists() else 0) + 4096
    except OSError:
        return False


def _explain(err: BaseException, final: Path, tmp: Path, option: str) -> BaseException:
    """The one-line error a failed write becomes: disk full and permission problems name the file."""
    if isinstance(err, NeurocalError) or not isinstance(err, Exception):
        return err
    if _disk_full(err, tmp):
        return NeurocalError(f"{final}: disk full while writing (no space left or file-size limit reached); "
                             f"the previous {final.name} is unchanged — free space or choose another {option}")
    if isinstance(err, PermissionError | IsADirectoryError | FileNotFoundError):
        return NeurocalError(f"{final}: cannot write ({err.strerror}); choose another {option}")
    return err


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "", option: str = "--out") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` only if the block succeeds.

    The block writes the file at the yielded path (any library that takes a filename). The temporary
    lives in the same folder, so ``os.replace`` is atomic; it is fsynced before and the folder after.
    On an exception, SIGINT or SIGTERM the temporary is removed and ``target`` is left untouched.
    ``suffix`` ends the temporary's name (libraries that infer a format from it, e.g. ``.png``).
    """
    final = check_output_file(target, option)
    with deferred_signals():
        tmp = _temp_name(final, suffix)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))  # umask applies
        except OSError as err:
            raise _explain(err, final, tmp, option) if err.errno in DISK_FULL else NeurocalError(
                f"{target}: cannot write in {final.parent} ({err.strerror}); choose a writable {option}") from err
        committed = False
        try:
            yield tmp
            check_interrupt()  # a signal during the write: keep the old file
            _commit_file(tmp, final, option)
            committed = True
            _committed()
        except BaseException as err:
            explained = _explain(err, final, tmp, option)
            if explained is err:
                raise
            raise explained from err
        finally:
            if not committed:
                tmp.unlink(missing_ok=True)


def _commit_file(tmp: Path, final: Path, option: str) -> None:
    _fsync_path(tmp)
    try:
        st = final.lstat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):  # became something else while we worked
            raise NeurocalError(f"{final}: is now {_kind(st.st_mode)}, which neurocal never replaces; "
                                f"choose a regular file for {option}")
        os.chmod(tmp, stat.S_IMODE(st.st_mode))  # a replaced file keeps its permissions
    os.replace(tmp, final)
    _fsync_path(final.parent)


class GuardedFile(io.RawIOBase):
    """A binary file that records the first I/O error and from then on succeeds without doing anything.

    For libraries that crash when a write fails (HDF5 2.0 segfaults closing such a file): the
    library sees success, the error is raised by :meth:`check` or when :func:`atomic_file` commits.
    After an error or :meth:`release` every call is a successful no-op that keeps track of the
    position and the end: an HDF5 object that outlives its file may still flush into it at
    interpreter exit, and a failure there is a segfault too. Unbuffered, so that no error is
    delayed into a ``seek``.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.error: OSError | None = None
        self._pos = self._end = 0
        self._f: io.FileIO | None = open(path, "r+b", buffering=0)  # closed in release()

    def _fail(self, err: OSError) -> None:
        if self.error is None:
            self.error = err
        self.release()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._f is not None:
            try:
                return self._f.seek(offset, whence)
            except OSError as err:
                self._fail(err)
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos if self._f is None else self._f.tell()

    def readinto(self, buffer: Any) -> int:
        if self._f is not None:
            try:
                return self._f.readinto(buffer) or 0
            except OSError as err:
                self._fail(err)
        return 0

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        if self._f is not None:
            try:
                view = memoryview(data).cast("B")
                done = 0
                while done < n:  # a raw write may be partial
                    done += self._f.write(view[done:]) or 0
                return n
            except OSError as err:
                self._fail(err)
        self._pos += n
        self._end = max(self._end, self._pos)
        return n

    def truncate(self, size: int | None = None) -> int:
        if self._f is not None:
            try:
                return self._f.truncate(size)
            except OSError as err:
                self._fail(err)
        self._end = self._pos if size is None else size
        return self._end

    def flush(self) -> None:
        pass  # unbuffered: nothing is held back

    def size(self) -> int:
        """Bytes in the file now (the end of the last write, once the real file is released)."""
        if self._f is not None:
            with contextlib.suppress(OSError):
                return os.fstat(self._f.fileno()).st_size
        return self._end

    def check(self) -> None:
        """Raise the first I/O error (call between chunks to stop early on a full disk)."""
        if self.error is not None:
            raise self.error

    def release(self) -> None:
        """Close the real file; from now on every call is a successful no-op."""
        if self._f is not None:
            f, self._f = self._f, None
            with contextlib.suppress(OSError):
                self._pos = f.tell()
                self._end = os.fstat(f.fileno()).st_size
            with contextlib.suppress(OSError):
                f.close()

    def close(self) -> None:  # io's close would make later calls raise: see the class docstring
        self.release()


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str], suffix: str = "", option: str = "--out") -> Iterator[GuardedFile]:
    """Like :func:`atomic_path`, yielding an open binary :class:`GuardedFile` (e.g. for ``h5py.File(f, "w")``)."""
    with atomic_path(target, suffix, option) as tmp:
        fh = GuardedFile(tmp)
        try:
            yield fh
            fh.flush()
            fh.check()
        finally:
            fh.release()


@contextlib.contextmanager
def atomic_h5(target: str | os.PathLike[str], option: str = "--out") -> Iterator[Any]:
    """An ``h5py.File`` open for writing whose file replaces ``target`` only if the block succeeds.

    Safe on a full disk (see :class:`GuardedFile`); the file is closed before it is committed.
    """
    import h5py

    with atomic_file(target, ".h5", option) as fh:
        f = h5py.File(fh, "w")
        try:
            yield f
        finally:
            f.close()


def write_text_atomic(target: str | os.PathLike[str], text: str, option: str = "--out") -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes_atomic(target, text.encode(), option)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes, option: str = "--out") -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target, option=option) as tmp:
        tmp.write_bytes(data)


# ----------------------------------------------------------------------------------------------- folders


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_manifest(folder: Path, kind: str) -> None:
    """List every file with its size and sha256; written last, so its presence means the folder is whole."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    from neurocal import __version__

    manifest = {"schema": MANIFEST_SCHEMA, "kind": kind, "written_by": f"neurocal {__version__}", "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            _fsync_path(path)
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        _fsync_path(path)
    _fsync_path(folder)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(tmp: Path, final: Path) -> None:
    """Make ``tmp`` the folder at ``final``; afterwards ``tmp`` holds the old folder (if any), to delete."""
    if not final.exists():
        os.rename(tmp, final)
        return
    if _exchange(tmp, final):
        return
    old = final.parent / f".{final.name}.{secrets.token_hex(4)}.old"
    os.rename(final, old)  # no atomic exchange: a moment without `final`; the old folder stays beside it
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)
        raise
    os.rename(old, tmp)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], kind: str, option: str = "--out",
               known_files: Iterable[str] = (), products: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; it replaces ``target`` as a whole if the block succeeds.

    Write plain files into the yielded folder. On success a manifest (:data:`MANIFEST`, kind
    ``kind``, every file's size and sha256) is written last, everything is fsynced, and the folder
    is swapped in; the previous folder is then deleted. On an exception, SIGINT or SIGTERM the
    temporary folder is deleted and ``target`` is untouched. See :func:`check_output_dir` for which
    existing folders may be replaced and :func:`check_complete` for readers.
    """
    final = check_output_dir(target, option, kind, known_files, products)
    with deferred_signals():
        tmp = _temp_name(final, ".tmp")
        try:
            tmp.mkdir()  # 0o777 & ~umask
        except OSError as err:
            raise NeurocalError(f"{target}: cannot write in {final.parent} ({err.strerror}); "
                                f"choose a writable {option}") from err
        try:
            yield tmp
            check_interrupt()
            _write_manifest(tmp, kind)
            _fsync_tree(tmp)
            check_output_dir(target, option, kind, known_files, products)  # still replaceable after the work
            _swap_in(tmp, final)
            _committed()
            _fsync_path(final.parent)
        except BaseException as err:
            explained = _explain(err, final, tmp / "?", option)
            if explained is err:
                raise
            raise explained from err
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_manifest_json(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NeurocalError(f"{path}: unreadable manifest ({err}); the folder is damaged: write it again") from err
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise NeurocalError(f"{path}: not a neurocal manifest (schema {MANIFEST_SCHEMA!r} expected)")
    return manifest


def _present_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}


def _differs(file: Path, entry: Any, verify: bool) -> bool:
    if not isinstance(entry, dict):
        return True
    return file.stat().st_size != entry.get("bytes") or (verify and _sha256(file) != entry.get("sha256"))


def _foreign_files(folder: Path, manifest: dict[str, Any], products: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Files of ``folder`` its manifest does not list (``extra``) and listed files that differ (``changed``).

    Files matching one of the glob patterns ``products`` are neither: a build made them in place.
    """
    listed = manifest.get("files")
    listed = listed if isinstance(listed, dict) else {}
    patterns = tuple(products)
    extra, changed = [], []
    for name in sorted(_present_files(folder)):
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            continue
        if name not in listed:
            extra.append(name)
        elif _differs(folder / name, listed[name], verify=True):
            changed.append(name)
    return extra, changed


def check_complete(folder: str | os.PathLike[str], kind: str, fix: str, verify: bool = True) -> dict[str, Any]:
    """Check that ``folder`` is a whole :func:`atomic_dir` output of ``kind``; return its manifest.

    A missing manifest (torn write, or written before manifests), a missing or extra file, or a
    file whose size or (with ``verify``) sha256 differs from the manifest raises a NeurocalError
    ending in ``fix`` (e.g. "re-create it with 'neurocal quantize'").
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise NeurocalError(f"{folder}: incomplete {kind} (no {MANIFEST}: interrupted while written, or written "
                            f"by an older neurocal); {fix}")
    manifest = _read_manifest_json(path)
    if manifest.get("kind") != kind:
        raise NeurocalError(f"{folder}: holds a neurocal {manifest.get('kind')}, not a {kind}; {fix}")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise NeurocalError(f"{path}: field 'files' is missing; {fix}")
    present = _present_files(folder)
    for name in sorted(set(listed) | present):
        file = folder / name
        if name not in listed:
            raise NeurocalError(f"{file}: not in {MANIFEST} (added after the {kind} was written); {fix}")
        if name not in present:
            raise NeurocalError(f"{file}: missing (listed in {MANIFEST}); the {kind} is torn; {fix}")
        if _differs(file, listed[name], verify):
            raise NeurocalError(f"{file}: differs from {MANIFEST} (changed after the {kind} was written); {fix}")
    return manifest


@contextlib.contextmanager
def output_dir(target: str | os.PathLike[str], option: str = "--out",
               keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """A folder written into file by file (a training run, a plot folder); created here if missing.

    Checked before the block (see :func:`check_output_dir`). If the block fails, the folders this
    call created are removed again — unless ``keep(folder)`` says the partial content is worth
    keeping (e.g. a training checkpoint that ``--resume`` continues from). Existing folders are
    never removed.
    """
    final = check_output_dir(target, option)
    created: list[Path] = []
    missing = final
    while not missing.exists():
        created.append(missing)
        missing = missing.parent
    try:
        final.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NeurocalError(f"{target}: cannot create ({err.strerror}); choose another {option}") from err
    try:
        yield final
    except BaseException:
        if created and not (keep and keep(final)):
            shutil.rmtree(created[-1], ignore_errors=True)
        raise
