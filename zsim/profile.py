"""Machine profiles: the cost model fitted to one machine, with where and how it was measured.

A profile is a JSON file ``{"kind": "zsim-profile", "schema_version", "name", "created", "host",
"versions", "model": {...CostModel...}, "fit": {...}}``. The shipped ``default`` profile holds
the reference defaults (../shared reference measurements: pyzmq over loopback on a small
machine); ``zsim calibrate`` writes one for the machine it runs on. A scenario's own ``[model]``
table overrides the profile, field by field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zsim.atomic import write_file
from zsim.costs import CostModel
from zsim.errors import ZsimError

PROFILE_SCHEMA_VERSION = 1
PROFILE_KIND = "zsim-profile"
SHIPPED = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True)
class Profile:
    name: str
    model: CostModel
    meta: dict[str, Any] = field(default_factory=dict)


def profile_path(ref: str | None) -> Path:
    """A path, or the name of a shipped profile; None is the default profile."""
    if ref is None:
        return SHIPPED / "default.json"
    path = Path(ref)
    if path.is_file():
        return path
    shipped = SHIPPED / f"{path.stem}.json"
    if shipped.is_file():
        return shipped
    known = ", ".join(p.stem for p in sorted(SHIPPED.glob("*.json")))
    raise ZsimError(f"{ref}: no such profile (shipped profiles: {known})")


def load_profile(ref: str | None = None) -> Profile:
    path = profile_path(ref)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ZsimError(f"{path}: cannot read profile: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != PROFILE_KIND:
        raise ZsimError(f"{path}: kind: not a zsim profile, got {doc.get('kind')!r}"
                        if isinstance(doc, dict) else f"{path}: not a zsim profile")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > PROFILE_SCHEMA_VERSION:
        raise ZsimError(f"{path}: schema_version: {version!r} is newer than this zsim reads "
                        f"({PROFILE_SCHEMA_VERSION}); upgrade zsim")
    try:
        model = CostModel.model_validate(doc.get("model", {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ZsimError(f"{path}: model.{where}: {err['msg']}, got {err.get('input')!r}"
                        ) from None
    name = str(doc.get("name") or path.stem)
    meta = {k: v for k, v in doc.items() if k != "model"}
    return Profile(name, model, {**meta, "path": str(path)})


def save_profile(path: Path, name: str, model: CostModel, extra: dict[str, Any]) -> Path:
    """Write a profile atomically."""
    doc = {"kind": PROFILE_KIND, "schema_version": PROFILE_SCHEMA_VERSION, "name": name,
           **extra, "model": model.model_dump()}
    text = json.dumps(doc, indent=2, default=str) + "\n"
    return write_file(path, lambda tmp: tmp.write_text(text))
