"""Writing result folders safely: a run either leaves a complete folder or none, and never
deletes anything the tool did not write.

Rules (docs/outputs.md):

- every output folder holds a marker file (``.capacity-output``) listing each file the run wrote;
  a run replaces an existing folder only when the marker proves it is an earlier capacity
  output and the folder holds nothing else; any other non-empty folder is refused;
- the output may not be, contain or sit inside a protected folder (the district), and may not
  be or contain the folder of a scenario file;
- a lock file beside the target refuses a second run writing the same folder at the same time;
- leftovers of a killed run (``.NAME.tmp-*``, ``.NAME.old-*``) are removed by the next run;
- the folder is checked for writability and free space before any computation (the context
  manager is entered first), and the new folder replaces the old one by an atomic exchange,
  so at no moment is the old output gone and the new one not in place.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from capacity.errors import OutputError
from capacity.notes import note

MARKER = ".capacity-output"
MIN_FREE_BYTES = 50 * 1024 * 1024
OUT_OF_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _marker_files(folder: Path) -> set[str] | None:
    """Files listed by the folder's marker, or None when it has no valid marker."""
    m = folder / MARKER
    if not m.is_file():
        return None
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "capacity" or not isinstance(data.get("files"), list):
        return None
    return {str(f) for f in data["files"]}


def _contents(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` as relative POSIX paths (folders end with '/')."""
    out = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out |= {(rel / d).as_posix() + "/" for d in dirs}
        out |= {(rel / f).as_posix() for f in files}
    return out


def _listed(files: set[str]) -> set[str]:
    """Files plus every folder on their paths."""
    out = set(files)
    for f in files:
        parts = f.split("/")[:-1]
        out |= {"/".join(parts[: i + 1]) + "/" for i in range(len(parts))}
    return out


def check_protected(target: Path, protect: tuple[Path, ...] = (), protect_folder_of: tuple[Path, ...] = ()) -> None:
    """Refuse an output at, around or inside an input (see :func:`check_target`)."""
    target = Path(os.path.realpath(os.path.abspath(target)))
    for p in protect:
        p = Path(p).resolve()
        if target == p or p.is_relative_to(target) or target.is_relative_to(p):
            raise OutputError(
                f"output {target}: found the input {p} at, above or around it; "
                "expected an output folder outside the district (the tool replaces its output folder)"
            )
    for f in protect_folder_of:
        d = Path(f).resolve().parent
        if target == d or d.is_relative_to(target):
            raise OutputError(
                f"output {target}: found the scenario {Path(f).name} inside it; expected an output folder that does not hold the scenario"
            )


def check_target(target: Path, protect: tuple[Path, ...] = (), protect_folder_of: tuple[Path, ...] = ()) -> None:
    """Refuse an output location that could destroy files the tool did not write.

    Parameters
    ----------
    target : Path
        Absolute, resolved output folder.
    protect : tuple of Path
        Folders (or files) the output may not be, contain or sit inside (the district).
    protect_folder_of : tuple of Path
        Files whose folder the output may not be or contain (scenario files).
    """
    check_protected(target, protect, protect_folder_of)
    if target.exists() or target.is_symlink():
        if target.is_symlink():
            raise OutputError(
                f"output {target}: found a link to {os.path.realpath(target)}; expected a real folder (or nothing) to write results into"
            )
        if not target.is_dir():
            raise OutputError(f"output {target}: found a file; expected a folder (or nothing) to write results into")
        try:
            present = _contents(target)
        except OSError as e:
            raise OutputError(f"output {target}: cannot read it ({e.strerror}); expected a readable folder") from None
        if not present:
            return
        listed = _marker_files(target)
        if listed is None:
            sample = ", ".join(sorted(present)[:5]) + (" ..." if len(present) > 5 else "")
            raise OutputError(
                f"output {target}: found a non-empty folder that is not an earlier capacity output ({sample}); "
                "expected a new or empty folder, or one written by capacity (choose another --out; nothing was changed)"
            )
        foreign = sorted(present - _listed(listed | {MARKER}))
        if foreign:
            sample = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise OutputError(
                f"output {target}: found files capacity did not write ({sample}) in an earlier output; "
                "expected only the earlier run's files (move them elsewhere or choose another --out; nothing was changed)"
            )


@contextmanager
def _lock(parent: Path, name: str) -> Iterator[None]:
    path = parent / f".{name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise OutputError(f"output {parent / name}: cannot write in {parent} ({e.strerror}); expected a writable folder") from None
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: the lock file's existence is the lock
            pass
        except OSError:
            raise OutputError(
                f"output {parent / name}: found another capacity run writing this folder (lock {path}); "
                "expected one run per output folder: wait for it to finish or choose another --out"
            ) from None
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        os.close(fd)


def _clean_leftovers(parent: Path, name: str) -> None:
    """Remove temporary folders of earlier runs that were killed (we hold the lock, so none is live)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for p in parent.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
                note(f"output: removed {p.name}, left by an interrupted earlier run")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def write_marker(folder: Path) -> None:
    """The marker listing every file under ``folder`` (and every empty folder, e.g. a charts/
    folder with nothing to draw): proof that capacity wrote them."""
    present = _contents(folder) - {MARKER}
    files = sorted(p for p in present if not p.endswith("/") or not any(q != p and q.startswith(p) for q in present))
    (folder / MARKER).write_text(json.dumps({"tool": "capacity", "files": files}, indent=1) + "\n", encoding="utf-8")


def output_error(e: OSError, target: Path) -> OutputError:
    """A clean message for a disk that is full, read-only or not ours."""
    what = {errno.ENOSPC: "no space left", errno.EDQUOT: "disk quota exceeded", errno.EROFS: "a read-only file system"}.get(
        e.errno, e.strerror or str(e)
    )
    return OutputError(f"output {target}: could not write ({what}); expected a writable folder with room; nothing was changed")


@contextmanager
def atomic_dir(
    target: str | Path,
    protect: tuple[Path, ...] = (),
    protect_folder_of: tuple[Path, ...] = (),
    min_free_bytes: int = MIN_FREE_BYTES,
) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; on success it replaces ``target``.

    Enter it before computing: the target is checked (see :func:`check_target`), locked,
    tested for writability and free space first. On any error (or Ctrl-C) the temporary
    folder is removed and an existing ``target`` is left as it was.

    Raises
    ------
    OutputError
        The target is unsafe, locked by another run, not writable or without room.
    """
    target = Path(os.path.abspath(target))
    target = Path(os.path.realpath(target.parent)) / target.name  # links above the output resolved, the output itself not
    if target.name in ("", ".", ".."):
        raise OutputError(f"output {target}: found no folder name; expected a folder such as runs/base")
    check_target(target, protect, protect_folder_of)
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise output_error(e, target) from None
    try:
        with _locked_output(target, protect, protect_folder_of, min_free_bytes) as tmp:
            yield tmp
    except BaseException:
        for p in created:  # folders made for this output and still empty: no trace of a failed run
            try:
                p.rmdir()
            except OSError:
                break
        raise


@contextmanager
def _locked_output(target: Path, protect, protect_folder_of, min_free_bytes: int) -> Iterator[Path]:
    with _lock(target.parent, target.name):
        check_target(target, protect, protect_folder_of)
        _clean_leftovers(target.parent, target.name)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        except OSError as e:
            raise output_error(e, target) from None
        try:
            free = shutil.disk_usage(tmp).free
            if free < min_free_bytes:
                raise OutputError(
                    f"output {target}: found {free / 1e6:.0f} MB free; expected at least {min_free_bytes / 1e6:.0f} MB before computing"
                )
            try:
                yield tmp
                write_marker(tmp)
            except OSError as e:
                # a missing path inside our own fresh folder is a bug in the writer, not the disk: let it surface as one
                ours = e.filename and str(e.filename).startswith(str(tmp)) and e.errno != errno.ENOENT
                if e.errno in OUT_OF_ROOM or ours:
                    raise output_error(e, target) from None
                raise
            _replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.replace(tmp, target)
        return
    if _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the earlier output
        return
    # No atomic exchange here: move the old folder aside, put the new one in place, restore on failure.
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
