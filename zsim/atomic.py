"""Atomic writes: a result is either whole or absent, never half-written."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from zsim.errors import ZsimError


def write_dir(out: str | Path, fill: Callable[[Path], object], kind: str) -> Path:
    """Build a result directory of ``kind`` with ``fill(tmp)`` beside ``out``, then rename it
    into place. ``out`` may be absent, an empty directory, or an earlier zsim result of the
    same kind (its meta.json says ``"kind": kind``), which is replaced whole (and said so on
    stderr); anything else is refused with a ZsimError before anything is written, so that
    zsim never deletes what it did not write."""
    out = Path(out).resolve()
    replacing = _check_target(out, kind)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise ZsimError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None
    try:
        fill(tmp)
        tmp.chmod(0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if replacing:
        print(f"zsim: replaced the earlier {kind} result in {out}", file=sys.stderr)
    return out


def check_result_dir(out: str | Path, kind: str) -> bool:
    """For writers that fill ``out`` in place (a sweep resumes into it): raise unless it is
    absent, empty, or an earlier result of ``kind``; True for the last."""
    return _check_target(Path(out).resolve(), kind)


def _check_target(out: Path, kind: str) -> bool:
    """Whether ``out`` holds an earlier result of ``kind`` (to replace); raises if ``out`` is
    anything zsim may not overwrite."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise ZsimError(f"--out {out}: exists and is not a directory")
    entries = list(out.iterdir())
    if not entries:
        return False
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        meta = None
    if isinstance(meta, dict) and meta.get("kind") == kind:
        return True
    found = f"a zsim {meta['kind']} result" if isinstance(meta, dict) and "kind" in meta \
        else f"{len(entries)} entries zsim did not write"
    raise ZsimError(f"--out {out}: holds {found}; give a new or empty directory, or an earlier "
                    f"zsim {kind} result to replace")


def write_file(path: str | Path, fill: Callable[[Path], object]) -> Path:
    """Write a file with ``fill(tmp)`` beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
