"""Run folders are written whole or not at all: build beside the target, then rename."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import threading
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from portfolio import interrupts
from portfolio.errors import InputError, InputProblem
from portfolio.months import format_month

from .inputrows import row_hashes

try:
    import fcntl
except ImportError:  # not POSIX: no lock (docs/safety.md)
    fcntl = None

PACKAGES = ("portfolio", "ortools", "simpy", "numpy", "pandas", "scipy", "click")


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike, *, tables_workbook: bool = False):
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on any error it is removed.

    ``out`` is checked and locked first (``claimed``): only a run folder this tool wrote, or an empty folder, is
    ever replaced. The temporary folder follows the umask like any folder the user makes. ``tables_workbook``:
    a run folder, which also holds its CSV tables as one workbook, TABLES_WORKBOOK, written with the rest.
    """
    with claimed(out) as target:
        tmp = _new_aside(target, "tmp", make=True)
        try:
            yield tmp
            if tables_workbook:
                write_tables_workbook(tmp)
        except BaseException:
            with interrupts.deferred():
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        with interrupts.deferred():
            try:
                problem = _replace_problem(target)
                if problem:
                    raise OutError(target, problem)
                _replace(target, tmp)
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise OutError(target, f"cannot replace it ({exc.strerror})") from None
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise


# -- what --out may be -----------------------------------------------------------------------------------------

MARKER = {"written_by": "portfolio"}  # in every manifest.json this tool writes: the folder is the tool's to replace
LEGACY_RUN_KEYS = {"scenario", "inputs", "versions"}  # the manifest of a run folder written before the marker
LEGACY_SWEEP_KEYS = {"sweep", "versions"}  # the manifest of a sweep folder written before the marker
# Names of this tool's temporary and lock files: .NAME.tmp-PID-HEX / .NAME.old-PID-HEX, older versions' .NAME.tmp-XXXX
_OURS = re.compile(r"^\..+\.(tmp|old)-(\d+)-[0-9a-f]+$|^\..+\.(tmp|old)-[0-9a-z_]+$|^\..+\.lock$")


class OptionProblem(InputProblem):
    """A problem with an option's value: ``--out PATH: message`` (no line or column)."""

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class OutError(InputError):
    """``--out`` names a place this tool may not write (exit 2); nothing there is touched."""

    def __init__(self, out, message: str, option: str = "--out"):
        super().__init__(OptionProblem(f"{option} {out}".strip(), 0, 0, message))


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest.json as a dict, or None when there is none or it is not a JSON object."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_sweep_folder(folder: Path) -> bool:
    manifest = read_manifest(folder) or {}
    return isinstance(manifest.get("sweep"), list) and (
        manifest.get("written_by") == MARKER["written_by"] or LEGACY_SWEEP_KEYS <= manifest.keys())


def is_run_folder(folder: Path) -> bool:
    """A folder this tool wrote: its manifest.json carries the marker (or, from older versions, the run keys)."""
    manifest = read_manifest(folder) or {}
    run = manifest.get("written_by") == MARKER["written_by"] or LEGACY_RUN_KEYS <= manifest.keys()
    return run or is_sweep_folder(folder)


def _is_empty(folder: Path) -> bool:
    return next(iter(folder.iterdir()), None) is None


def _holds_only_runs(folder: Path) -> bool:
    """An interrupted sweep: nothing but run folders (and this tool's temporary and lock files)."""
    return all(_OURS.match(p.name) or (p.is_dir() and not p.is_symlink() and is_run_folder(p))
               for p in folder.iterdir())


def _place_problem(out: Path) -> str:
    """Why ``out`` can never be a run folder, whatever is in it ("" when it can be)."""
    if out.is_symlink():
        return "is a symbolic link; give the folder itself (or a new folder)"
    path = Path(os.path.realpath(out))
    cwd = Path(os.path.realpath(os.getcwd()))
    if path == Path(path.anchor):
        return "is the root folder; give a folder for the run, e.g. --out runs/NAME"
    if path == cwd:
        return "is the current folder; give a folder for the run, e.g. --out runs/NAME"
    if path in cwd.parents:
        return "contains the current folder; give a folder for the run, e.g. --out runs/NAME"
    with contextlib.suppress(RuntimeError, KeyError):
        if path == Path(os.path.realpath(Path.home())):
            return "is the home folder; give a folder for the run, e.g. --out runs/NAME"
    if out.exists() and not out.is_dir():
        return "is a file, not a folder"
    return ""


def _replace_problem(out: Path, kind: str = "run") -> str:
    """Why the tool may not write ``out`` (kind "run": replace it; "sweep": write variants into it), or ""."""
    problem = _place_problem(out)
    if problem or not out.exists():
        return problem
    try:
        if _is_empty(out):
            return ""
        ours = (is_sweep_folder(out) or _holds_only_runs(out)) if kind == "sweep" else is_run_folder(out)
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if ours:
        return ""
    if kind == "sweep" and is_run_folder(out):  # a sweep writes variant folders into its own folder, not into a run's
        return ("is a run folder written by portfolio (its manifest.json lists no sweep variants), not a sweep folder, "
                "so it is left as it is; give a new or empty folder, or an earlier sweep's folder")
    what = "a sweep folder" if kind == "sweep" else "a run folder"
    why = "its manifest.json is not one portfolio wrote" if (out / "manifest.json").exists() else "no manifest.json"
    return f"exists and is not {what} written by portfolio ({why}), so it is left as it is; give a new or empty folder"


def check_out(out: str | os.PathLike, kind: str = "run") -> None:
    """Raise OutError when this tool may not write ``out`` (see ``_replace_problem``); touches nothing."""
    out = Path(out)
    problem = _replace_problem(out, kind)
    if problem:
        raise OutError(out, problem)


# -- claiming a target: the lock and stale temporary folders ------------------------------------------------------

_CLAIMS: dict[Path, int] = {}  # targets this process holds the lock of -> nesting depth
_CLAIMS_GUARD = threading.Lock()


@contextlib.contextmanager
def claimed(out: str | os.PathLike, kind: str = "run"):
    """Check ``out``, lock it against other runs of the tool and remove what killed runs left; yield its path.

    The lock is ``.NAME.lock`` beside the target (removed again at the end). Nested claims of one target in
    one process share the lock. Kind "existing" (``report DIR``, which rewrites files inside a run folder) only
    locks: DIR is not checked here, and is not locked when it is no folder (the command says what is wrong).
    """
    if kind == "existing":
        if not Path(out).is_dir():
            yield Path(out)
            return
        out = os.path.realpath(out)
    else:
        check_out(out, kind)
    target = _target(out)
    with _CLAIMS_GUARD:
        nested = target in _CLAIMS
        _CLAIMS[target] = _CLAIMS.get(target, 0) + 1
    try:
        if nested:
            yield target
            return
        try:
            lock = _lock(out, target)
        except OutError as exc:
            if kind != "existing":
                raise
            raise OutError(out, exc.problems[0].message, option="") from None  # DIR of `report DIR`: no --out
        try:
            _remove_stale(target)
            yield target
        finally:
            with interrupts.deferred():
                _unlock(lock)
    finally:
        with _CLAIMS_GUARD:
            _CLAIMS[target] -= 1
            if not _CLAIMS[target]:
                del _CLAIMS[target]


def _target(out) -> Path:
    """The absolute target: its folder with links resolved, its own name as given (not a link: checked)."""
    out = Path(os.path.abspath(out))
    return Path(os.path.realpath(out.parent)) / out.name


def _writable_parent(out, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(p for p in [target.parent, *target.parent.parents] if p.exists())
        raise OutError(out, f"{blocker} is a file, not a folder") from None
    except OSError as exc:
        raise OutError(out, f"cannot make the folder {target.parent} ({exc.strerror})") from None
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutError(out, f"cannot write in {target.parent} (permission denied or read-only)")


def _lock(out, target: Path) -> tuple[int, Path] | None:
    """Take ``.NAME.lock`` beside the target, or raise OutError naming the process that has it."""
    _writable_parent(out, target)
    if fcntl is None:
        return None
    path = target.parent / f".{target.name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise OutError(out, f"cannot write in {target.parent} ({exc.strerror})") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):  # a file system without locks: go on without
                os.close(fd)
                return None
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise OutError(out, f"is in use by another portfolio run{by}; wait for it to end or give "
                                "another folder") from None
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break  # else the run that held it removed the file meanwhile: lock the new one
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd, path


def _unlock(lock: tuple[int, Path] | None) -> None:
    if lock is None:
        return
    fd, path = lock
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # while still locked, so no other run can have locked this file
    os.close(fd)


def _new_aside(target: Path, what: str, make: bool = False) -> Path:
    """``.NAME.tmp-PID-XXXX`` (or ``.old-``) beside the target; made with the umask's mode when ``make``."""
    while True:
        path = target.parent / f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}"
        if not make:
            return path
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutError(target, f"cannot write in {target.parent} ({exc.strerror})") from None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove ``.NAME.tmp-*`` and ``.NAME.old-*`` that runs killed before their cleanup left.

    Called under the lock, so no run of this tool is writing them; one whose process still lives is kept anyway.
    """
    prefix = f".{target.name}."
    for path in target.parent.iterdir():
        name = path.name
        if not (name.startswith(prefix + "tmp-") or name.startswith(prefix + "old-")):
            continue
        match = _OURS.match(name)
        if not match or path.is_symlink() or not path.is_dir():
            continue
        pid = match.group(2)
        if pid and (int(pid) == os.getpid() or _process_alive(int(pid))):
            continue
        shutil.rmtree(path, ignore_errors=True)


def _replace(target: Path, tmp: Path) -> None:
    """Put the finished ``tmp`` at ``target``; the earlier run folder there (checked) goes aside, then away."""
    old = None
    if target.exists():
        old = _new_aside(target, "old")
        target.rename(old)
    try:
        tmp.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _head(path: Path) -> bytes:
    """A file's first bytes (b"" when it cannot be read: then it is not replaced either)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4096)
    except OSError:
        return b""


def write_file_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to the file ``path`` (an --out FILE) whole or not at all; its folder is made if missing."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes, kind: str | None = None,
                       replaces=None) -> Path:
    """Write ``data`` to the file ``path`` (an --out FILE) whole or not at all, with the umask's mode.

    ``replaces(head)``: whether an existing file, by its first bytes, is one of ``kind`` that this file may
    replace; any other existing file (a scenario, a run's CSV) is left untouched with exit 2.
    """
    path = Path(path)
    try:
        if path.is_symlink() or path.is_dir():
            raise OutError(path, "is a symbolic link; give the file itself" if path.is_symlink()
                           else "is a folder; give a file name")
        target = _target(path)
    except (OSError, ValueError) as exc:
        raise OutError(path, f"is not a usable file name ({getattr(exc, 'strerror', None) or exc})") from None
    if replaces is not None and target.is_file() and not replaces(_head(target)):
        raise OutError(path, f"exists and is not {kind}; it is left as it is (give a new name)")
    _writable_parent(path, target)
    try:
        tmp = _new_aside(target, "tmp")
        try:
            with open(tmp, "xb") as stream:
                stream.write(data)
            with interrupts.deferred():
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise OutError(path, f"cannot write it ({exc.strerror})") from None
    return target


BOM_SWITCH = "PORTFOLIO_CSV_BOM"


def csv_bom() -> bool:
    """Whether output CSV files start with a UTF-8 byte-order mark: yes unless PORTFOLIO_CSV_BOM is 0 (or --no-bom).

    Excel on a Chinese Windows reads a CSV file without the mark as GBK and garbles every Chinese name; with the
    mark it reads UTF-8. Every reader of this tool accepts both.
    """
    return os.environ.get(BOM_SWITCH, "1").strip().lower() not in ("0", "no", "false", "off")


TABLES_WORKBOOK = "tables.xlsx"


def write_tables_workbook(folder: Path) -> None:
    """TABLES_WORKBOOK: every CSV table of ``folder`` as a sheet, for planners who open one file in Excel; fixed
    document dates, so the same tables give the same bytes. Nothing when the folder has no CSV table."""
    from .workbook import tables_workbook, workbook_bytes

    files = sorted(Path(folder).glob("*.csv"))
    if files:
        (Path(folder) / TABLES_WORKBOOK).write_bytes(workbook_bytes(tables_workbook(files)))  # inside the folder being built


def write_csv(df, path: Path, bom: bool | None = None) -> None:
    """CSV bytes that depend only on the data (and the BOM switch): UTF-8, with a byte-order mark unless ``csv_bom``
    says no, LF line ends, no index; formula-like text neutralised. A text buffer gets no mark."""
    text = [c for c in df.columns if df[c].dtype.kind == "O"]  # object or string columns
    if text:
        df = df.copy()
        for column in text:
            df[column] = df[column].map(neutralise_formula)
    encoding = "utf-8-sig" if (csv_bom() if bom is None else bom) else "utf-8"
    df.to_csv(path, index=False, lineterminator="\n", encoding=encoding)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formula(cell):
    """A text cell that a spreadsheet would run as a formula gets a leading ' (OWASP, CSV injection);
    numbers written as text (-3, -0.50) and every other value are kept."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def sha256_of(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def write_manifest(folder: Path, settings, portfolio, rules: dict[str, str], **sections) -> dict:
    """manifest.json: the scenario, hashes of every input, versions, and what each stage reports.

    ``rules``: the scenario's rules as ``scenarios.rules.scenario_rules`` gives them; the caller passes them, so that
    the run-folder format needs nothing above the model.
    """
    path = Path(folder) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    manifest.update(
        {
            **MARKER,
            "scenario": settings.name,
            "scenario_file": Path(settings.scenario_file).name if settings.scenario_file else "",
            "inputs": dict(portfolio.inputs),
            "input_rows": row_hashes(settings.data_dir, dict(portfolio.inputs)),
            "scenario_rules": rules,
            "status_date": format_month(settings.status_date),
            "versions": package_versions(),
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    manifest.update(sections)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
