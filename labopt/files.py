"""Output folders that touch only labopt's own files, written whole or not at all.

Every command that writes a folder records the files it wrote in a marker file,
``.labopt-output`` (JSON, paths relative to the folder). The marker decides what labopt may
replace:

- a new or empty folder is written;
- a folder with a marker (a labopt output) is updated: labopt's files in it are replaced, any
  other file (one the user added) is left alone;
- any other non-empty folder is refused unless ``force``; with ``force`` labopt writes its
  files beside the ones there. A file labopt did not write is never replaced or deleted, even
  with ``force``: writing over one is refused, naming it.

Old or new, never half: every file is written into a staging folder first, so a failure while
writing leaves the folder as it was. A folder that holds only labopt's files is then swapped in
whole (a reader sees the old output or the new one); in a folder that also holds other files,
each file is moved into place (each one old or new) once all are written.

A name in the folder that is a symlink, or lies below one, is never written through: labopt
never writes symlinks, so such a name is not labopt's and writing there is refused. The output
folder itself may be a symlink: the same rules apply to the folder it leads to.

The marker also records which kind of output the folder is (a plan, a scenario, a batch, ...).
A command refuses a folder of another kind; with ``force`` it writes beside that folder's
files and keeps them (they count as the user's from then on). An output folder that is, holds
or lies inside a file or folder the command reads is refused, ``force`` or not: writing there
could replace or delete the input. When the output folder is (or holds) the current working
folder it is written in place, never renamed away under the user's shell. New folders and
files get the umask's modes; a replaced folder or file keeps its old mode (and group).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path, PurePosixPath

from labopt.errors import InputError

MARKER = ".labopt-output"
STAGING_PREFIX = ".labopt-staging-"
# writes one file at the path it is given; what it returns is ignored
Writer = Callable[[Path], object]


class Beside:
    """A writer worth running in a child process while the other files are written (a large
    workbook): on a machine with fork and more than one core, :func:`write_output_folder`
    forks for it; elsewhere (or from a thread other than the main one) it runs in turn. Its
    errors reach the caller as if it had run in the process."""

    def __init__(self, write: Writer, group: str | None = None) -> None:
        self.write = write
        # writers of one group share a child, one after the other (one import, one fork)
        self.group = group

    def __call__(self, path: Path) -> object:
        return self.write(path)


class OutputFolderError(InputError):
    """An output folder labopt refuses to write into (the message says why and what to do)."""


def write_output_folder(
    folder: str | os.PathLike,
    files: Mapping[str, Writer],
    *,
    force: bool = False,
    keep_old: bool = False,
    adopt: Iterable[str] = (),
    what: str = "--out",
    kind: str = "",
    reads: Iterable[str | os.PathLike] = (),
    meanwhile: Callable[[], object] | None = None,
) -> list[Path]:
    """Write ``files`` (relative path -> writer(path); a writer may make a folder of files)
    into ``folder`` under the rules of this module; returns the paths written.

    ``keep_old``: labopt's files from an earlier run that are not written again stay (a batch
    keeps its earlier plate maps); otherwise they are removed. ``adopt``: relative paths that
    count as labopt's in a folder without a marker (one checked to be labopt's by its
    content, made before markers existed). ``what`` names the option or argument in messages.
    ``kind`` names the kind of output (recorded in the marker; a folder of another kind is
    refused unless ``force``). ``reads``: the files and folders the command read, which the
    output folder must neither be, hold nor lie inside. ``meanwhile``: work of this process
    that the files written in turn need, done once the Beside writers' children are started
    (it overlaps them) and before the other writers run.
    """
    shown_folder = Path(folder)
    check_not_input(folder, reads, what)
    _check_parents(folder, what)
    state = _Folder(Path(os.path.abspath(folder)), what)
    other_kind = state.marked and kind and state.kind and state.kind != kind
    if other_kind and not force:
        raise OutputFolderError(
            f"{what}: {shown_folder} is a labopt {state.kind} folder, not a {kind} folder; "
            f"labopt will not replace its files with a {kind}. Choose another folder, or add "
            f"--force to write beside them (they are kept)."
        )
    if other_kind:
        owned = set()
    else:
        owned = (
            state.owned
            if state.marked
            else {p for p in map(_clean, adopt) if p and state.is_regular_file(p)}
        )
    labopt_output = (state.marked and not other_kind) or bool(owned)
    foreign = state.foreign(owned, limit=6)
    if foreign and not labopt_output and not force:
        shown = ", ".join(repr(p) for p in foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputFolderError(
            f"{what}: {shown_folder} is not empty (it holds {shown}) and is not a labopt "
            f"output folder (it has no {MARKER} file); labopt will not write there so as "
            f"not to touch your files. Choose a new or empty "
            f"folder, or add --force to write labopt's files beside the ones there (a file "
            f"labopt did not write is never replaced)."
        )
    names = [_clean(n) for n in files]
    for given, name in zip(files, names, strict=False):
        if not name:
            raise ValueError(f"not a relative file name inside the folder: {given!r}")
        state.check_writable(name, owned)
    if not state.exists or (
        state.is_real_dir and labopt_output and not foreign and not _holds_cwd(state.path)
    ):
        _write_swapped(state, files, owned, keep_old, kind, meanwhile)
    else:
        _write_in_place(state, files, owned, keep_old, kind, meanwhile)
    return [shown_folder / name for name in names]


# the installed labopt package: its files are labopt's code and examples, never an output
PACKAGE = Path(__file__).resolve().parent


def check_not_input(
    out: str | os.PathLike, reads: Iterable[str | os.PathLike], what: str = "--out"
) -> None:
    """Refuse an output path that lies inside labopt's package, or is, holds or lies inside one
    of the inputs ``reads`` (resolved, so links and '..' do not hide it): writing there could
    replace or delete what the command is reading."""
    target = Path(out).resolve()
    if target == PACKAGE or PACKAGE in target.parents:
        raise OutputFolderError(
            f"{what}: {out} lies inside labopt's own package ({PACKAGE}); labopt does not "
            f"write there, even with --force (an upgrade would delete it, and a folder there "
            f"would pass for one of labopt's examples). Choose a folder of your own."
        )
    for given in reads:
        src = Path(given).resolve()
        if src == target or src in target.parents or target in src.parents:
            where = (
                f"is this command's input ({given})"
                if src == target
                else f"{'lies inside' if src in target.parents else 'holds'} this command's "
                f"input {given}"
            )
            raise OutputFolderError(
                f"{what}: {out} {where}; labopt will not write where it could replace or "
                f"delete what it reads, even with --force. Choose an output outside the "
                f"input."
            )


def _check_parents(out: str | os.PathLike, what: str) -> None:
    """Refuse an output whose nearest existing parent is a file: no folder can be made there."""
    parent = Path(os.path.abspath(out)).parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputFolderError(
            f"{what}: {out} cannot be made: {parent} is a file, not a folder. Choose a path "
            f"in a folder."
        )


def write_output_file(
    path: str | os.PathLike,
    writer: Writer,
    *,
    force: bool = False,
    what: str = "output file",
    reads: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write one file (e.g. a workbook) atomically: built beside ``path``, then renamed onto
    it, under the rules of :func:`check_output_file`."""
    path = Path(path)
    check_output_file(path, force=force, what=what, reads=reads)
    old_mode = stat.S_IMODE(os.lstat(path).st_mode) if os.path.lexists(path) else None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, prefix=f".{path.stem}.", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, _new_file_mode() if old_mode is None else old_mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_file(
    path: str | os.PathLike,
    *,
    force: bool = False,
    what: str = "output file",
    reads: Iterable[str | os.PathLike] = (),
    beside: Iterable[str | os.PathLike] = (),
) -> None:
    """Refuse, before anything is written, a file labopt may not write: an input or one
    inside it (``reads``), a path inside an output folder the same command writes
    (``beside``: its files follow that folder's rules), a folder's marker, anything that is
    not a regular file, and an existing file unless ``force`` (labopt cannot tell whether it
    wrote it); never through a symlink."""
    path = Path(path)
    check_not_input(path, reads, what)
    _check_parents(path, what)
    for folder in beside:
        inside = Path(os.path.abspath(folder))
        if inside == Path(os.path.abspath(path)) or inside in Path(os.path.abspath(path)).parents:
            raise OutputFolderError(
                f"{what}: {path} lies inside {folder}, which this command writes as a folder; "
                f"choose a path outside it."
            )
    if path.name == MARKER:
        raise OutputFolderError(
            f"{what}: {path} is the name of labopt's record of an output folder's files; "
            f"labopt will not write over it, even with --force. Choose another name."
        )
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file():
            raise OutputFolderError(
                f"{what}: {path} exists and is not a regular file; labopt "
                f"will not replace it. Choose another name."
            )
        if not force:
            raise OutputFolderError(
                f"{what}: {path} already exists; labopt does not replace "
                f"a file unless asked: add --force to replace it, or "
                f"choose another name."
            )


def read_marker(folder: str | os.PathLike) -> set[str] | None:
    """The relative paths a folder's marker lists (None: no marker). Entries that are not
    plain relative paths inside the folder are ignored; a marker that is a symlink or not
    labopt's JSON is refused (it could name files outside the folder)."""
    found = _read_marker(folder)
    return None if found is None else found[0]


# a marker written before kinds were recorded: the kind told by a file only that kind writes
KIND_BY_FILE = {
    "scenario.toml": "scenario",
    "summary.json": "plan",
    "batch.json": "batch",
    "estimates.json": "estimate",
}


def _read_marker(folder: str | os.PathLike) -> tuple[set[str], str] | None:
    path = Path(folder) / MARKER
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise OutputFolderError(
            f"{path} is not a regular file (a symlink?); labopt will not "
            f"trust it. Remove it, or choose another folder."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        listed = data["files"]
        if data.get("written_by") != "labopt" or not isinstance(listed, list):
            raise ValueError("not a labopt marker")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise OutputFolderError(
            f"{path} is not a readable labopt marker ({exc}); remove it "
            f"if this folder is labopt's, or choose another folder."
        ) from None
    files = {p for p in (_clean(x) for x in listed if isinstance(x, str)) if p}
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        kind = next((k for name, k in KIND_BY_FILE.items() if name in files), "")
    return files, kind


# ---------------------------------------------------------------------- internals
def _clean(name: str) -> str:
    """``name`` as a POSIX relative path inside a folder, or '' when it is not one."""
    p = PurePosixPath(str(name).replace(os.sep, "/"))
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts):
        return ""
    s = p.as_posix()
    return "" if s == MARKER or p.parts[0].startswith(STAGING_PREFIX) else s


class _Folder:
    """What an output folder holds: its marker's files and everything else."""

    def __init__(self, folder: Path, what: str):
        self.path = folder
        self.what = what
        if os.path.lexists(folder) and not folder.is_dir():
            raise OutputFolderError(
                f"{what}: {folder} exists and is not a folder; choose a folder name."
            )
        exists = folder.is_dir()
        # a symlink to a folder is written in place, never renamed
        self.is_real_dir = exists and not folder.is_symlink()
        self.exists = exists
        found = _read_marker(folder) if exists else None
        self.marked = found is not None
        self.kind = found[1] if found else ""
        self.owned = {p for p in (found[0] if found else ()) if self.is_regular_file(p)}

    def is_regular_file(self, rel: str) -> bool:
        """A regular file at ``rel`` reached through real folders only."""
        cur = self.path
        parts = rel.split("/")
        for i, part in enumerate(parts):
            cur = cur / part
            try:
                st = os.lstat(cur)
            except (FileNotFoundError, NotADirectoryError):
                return False
            last = i == len(parts) - 1
            if not (stat.S_ISREG(st.st_mode) if last else stat.S_ISDIR(st.st_mode)):
                return False
        return True

    def entries(self, under: str = "") -> Iterator[str]:
        """Every file, link and empty folder below the folder (relative paths, or below
        ``under``), without following links; labopt's marker and staging folders left out.
        Lazy: a refusal in a large folder (a home folder) stops at the first few."""
        start = self.path / under if under else self.path
        # the output folder itself may be a link (its entries are listed); a link inside it
        # is an entry, never followed
        if not start.is_dir() or (under and start.is_symlink()):
            return
        for root, dirs, names in os.walk(start, onerror=_unreadable):
            rel_root = Path(root).relative_to(self.path).as_posix()
            rel = "" if rel_root == "." else rel_root + "/"
            if not rel:
                dirs[:] = [d for d in dirs if not d.startswith(STAGING_PREFIX)]
                names = [n for n in names if n != MARKER and not n.startswith(STAGING_PREFIX)]
            links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
            dirs[:] = sorted(d for d in dirs if d not in links)
            yield from (rel + n for n in sorted(names + links))
            if rel and not dirs and not names and not links:
                yield rel.rstrip("/") + "/"

    def foreign(self, owned: set[str], limit: int | None = None) -> list[str]:
        """Entries that are not labopt's files (the first ``limit`` of them)."""
        return list(islice((p for p in self.entries() if p not in owned), limit))

    def check_writable(self, rel: str, owned: set[str]) -> None:
        """Refuse a name whose path in the folder holds something labopt did not write."""
        cur = self.path
        parts = rel.split("/")
        for i, part in enumerate(parts):
            cur = cur / part
            sub = "/".join(parts[: i + 1])
            if not os.path.lexists(cur):
                return
            if cur.is_symlink():  # labopt writes no links: this one is the user's
                self._refuse(sub, "is a symlink, which labopt does not write")
            if i < len(parts) - 1 and not cur.is_dir():
                self._refuse(sub, "is not a folder")
        unlisted = f"was not written by labopt (it is not listed in {MARKER})"
        if cur.is_dir():
            other = next((p for p in self.entries(rel) if p not in owned), None)
            if other is not None:
                self._refuse(other, unlisted)
        elif rel not in owned:
            self._refuse(rel, unlisted)

    def _refuse(self, rel: str, why: str) -> None:
        raise OutputFolderError(
            f"{self.what}: {self.path / rel} {why}; labopt never replaces it, even with "
            f"--force: move it away or choose another folder."
        )


def _unreadable(exc: OSError) -> None:
    """A folder labopt cannot list might hold the user's files: stop rather than guess."""
    raise OutputFolderError(
        f"cannot read {exc.filename} ({exc.strerror}); labopt will not "
        f"write where it cannot see what it would touch."
    )


def _stage(
    files: Mapping[str, Writer], tmp: Path, meanwhile: Callable[[], object] | None = None
) -> list[str]:
    """Run every writer into ``tmp`` (those marked Beside in child processes, started first so
    they overlap the rest, then ``meanwhile``); the relative paths of the files they made."""
    targets = {}
    for name in files:
        targets[name] = tmp / _clean(name)
        targets[name].parent.mkdir(parents=True, exist_ok=True)
    forking = _can_fork()
    children: list[_Child] = []
    try:
        in_turn = []
        groups: dict[str, list[str]] = {}  # a child's files, by group (or alone, by name)
        for name, writer in files.items():
            if forking and isinstance(writer, Beside):
                groups.setdefault(writer.group or name, []).append(name)
            else:
                in_turn.append(name)
        for names in groups.values():
            beside = [(files[n], targets[n]) for n in names]
            try:
                children.append(_Child(beside))  # type: ignore[arg-type]
            except OSError:  # no process to spare (EAGAIN, ENOMEM): write them in turn
                in_turn += names
        if meanwhile is not None:
            meanwhile()
        for name in in_turn:
            files[name](targets[name])
        while children:
            children[0].join()
            children.pop(0)
    finally:
        for child in children:  # the parent failed or was interrupted: stop the rest
            child.stop()
    made = []
    for root, _, names in os.walk(tmp):
        for n in names:
            made.append((Path(root) / n).relative_to(tmp).as_posix())
    return sorted(made)


def _can_fork() -> bool:
    """Whether a Beside writer runs in a child: fork exists, a second core can run it, and
    this is the main thread (forking a thread of a server could copy another thread's locks
    held)."""
    if not hasattr(os, "fork") or threading.current_thread() is not threading.main_thread():
        return False
    # a child reaped by the system (SIGCHLD ignored) leaves no exit status to read
    if signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1


class _Child:
    """Beside writers running one after the other in a forked child; join() re-raises the
    first exception."""

    def __init__(self, jobs: list[tuple[Beside, Path]]) -> None:
        self.target = jobs[0][1]
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: write the files, report an exception through the pipe
            os.close(read)
            code = 1
            try:
                for writer, target in jobs:
                    self.target = target
                    writer.write(target)
                code = 0
            except BaseException as exc:  # noqa: BLE001 -- any failure is the parent's to raise
                with contextlib.suppress(BaseException):
                    _send(write, exc)
            finally:
                os._exit(code)  # no atexit handlers, no buffers of the parent's flushed twice
        os.close(write)
        self.pid, self.pipe = pid, read

    def join(self) -> None:
        try:
            with os.fdopen(self.pipe, "rb") as fh:
                report = fh.read()
        finally:
            self.pipe = -1
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return
        try:
            exc = pickle.loads(report)
        except Exception:  # noqa: BLE001 -- a report that does not unpickle: say so
            exc = None
        if isinstance(exc, BaseException):
            raise exc
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        raise RuntimeError(f"writing {self.target.name} failed in its process ({how})")

    def stop(self) -> None:
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        if self.pipe >= 0:
            os.close(self.pipe)
        self.pid, self.pipe = 0, -1


def _send(fd: int, exc: BaseException) -> None:
    """The exception, pickled if it can be (else its text as a RuntimeError), into ``fd``."""
    try:
        data = pickle.dumps(exc)
    except Exception:  # noqa: BLE001 -- what cannot be pickled is sent as its text
        data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _write_marker(folder: Path, files: Iterable[str], kind: str) -> None:
    """The marker, replaced atomically (never through a symlink: rename replaces the link)."""
    fd, tmp = tempfile.mkstemp(prefix=STAGING_PREFIX, dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        data = {"written_by": "labopt", "files": sorted(set(files))}
        json.dump({**data, "kind": kind} if kind else data, fh, indent=1)
    _keep_mode(Path(tmp), folder / MARKER)
    os.replace(tmp, folder / MARKER)


def _umask() -> int:
    """The process's umask (read from /proc where it can be, without changing it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode() -> int:
    return 0o666 & ~_umask()


def _keep_mode(new: Path, old: Path) -> None:
    """Give a staged file the mode of the file it replaces, or the umask's default mode
    (mkstemp makes it private to the user)."""
    try:
        st = os.lstat(old)
        mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else _new_file_mode()
    except FileNotFoundError:
        mode = _new_file_mode()
    os.chmod(new, mode)


def _keep_modes(staged: Path, folder: Path, made: Iterable[str]) -> None:
    """Each staged file that replaces one in ``folder`` keeps that file's mode."""
    for rel in made:
        if os.path.lexists(folder / rel):
            _keep_mode(staged / rel, folder / rel)


def _like_folder(new: Path, old: Path | None) -> None:
    """Give a new folder the mode and group of the folder it replaces (setgid included), or
    the umask's default mode (mkdtemp makes it private to the user)."""
    if old is None:  # setgid inherited from a shared parent stays
        inherited = os.stat(new).st_mode & stat.S_ISGID
        os.chmod(new, (0o777 & ~_umask()) | inherited)
        return
    st = os.stat(old)
    with contextlib.suppress(OSError):  # not in that group: the mode is still kept
        os.chown(new, -1, st.st_gid)
    os.chmod(new, stat.S_IMODE(st.st_mode))


def _holds_cwd(folder: Path) -> bool:
    """Whether ``folder`` is or holds the current working folder (renaming it would pull
    the shell's folder away)."""
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        return False
    target = folder.resolve()
    return cwd == target or target in cwd.parents


def _write_swapped(
    state: _Folder,
    files: Mapping[str, Writer],
    owned: set[str],
    keep_old: bool,
    kind: str,
    meanwhile: Callable[[], object] | None,
) -> None:
    """Build the whole folder beside it, then swap it in (old or new, never half)."""
    folder = state.path
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _like_folder(tmp, folder if state.exists else None)
        made = _stage(files, tmp, meanwhile)
        _keep_modes(tmp, folder, made)
        kept = []
        if keep_old:
            for rel in sorted(owned - set(made)):
                if any(rel.startswith(m + "/") or m.startswith(rel + "/") for m in made):
                    continue
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / rel, tmp / rel)
                kept.append(rel)
        _write_marker(tmp, made + kept, kind)
        if not state.exists:
            tmp.rename(folder)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        old.rmdir()
        folder.rename(old)
        try:
            tmp.rename(folder)
        except BaseException:
            old.rename(folder)  # put the old output back
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _retire(old, folder, owned)


def _retire(old: Path, folder: Path, owned: set[str]) -> None:
    """Remove the swapped-out folder; anything in it that is not labopt's (a file made while
    the new output was written) is moved back first, and if that fails the old folder stays."""
    leftover = [p for p in _Folder(old, "").foreign(owned) if p]
    for rel in leftover:
        src, dst = old / rel.rstrip("/"), folder / rel.rstrip("/")
        try:
            if os.path.lexists(dst):
                raise FileExistsError(dst)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dst)
        except OSError:
            return  # keep the old folder rather than lose the file
    shutil.rmtree(old, ignore_errors=True)


def _write_in_place(
    state: _Folder,
    files: Mapping[str, Writer],
    owned: set[str],
    keep_old: bool,
    kind: str,
    meanwhile: Callable[[], object] | None,
) -> None:
    """Stage every file inside the folder, then move each into place."""
    folder = state.path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    try:
        made = _stage(files, tmp, meanwhile)
        for rel in made:  # a writer may have made files inside a folder name
            state.check_writable(rel, owned)
        stale = set() if keep_old else owned - set(made)
        _keep_modes(tmp, folder, made)
        # listed before they move, so a crash part-way leaves them known as labopt's
        _write_marker(folder, owned | set(made), kind)
        for rel in made:
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, target)
        for rel in sorted(stale):
            if state.is_regular_file(rel):
                (folder / rel).unlink()
                _remove_empty_parents(folder, rel)
        _write_marker(folder, (owned - stale) | set(made), kind)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_empty_parents(folder: Path, rel: str) -> None:
    parent = (folder / rel).parent
    while parent != folder:
        try:
            parent.rmdir()  # only an empty folder: never anything of the user's
        except OSError:
            return
        parent = parent.parent
