"""Where the shipped scenarios live, and finding a scenario by path or by name."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from zsim.errors import ZsimError

# the repository's scenarios/ directory, installed as the package data of zsim.scenarios
SHIPPED = Path(str(files("zsim.scenarios")))


def scenario_path(ref: str) -> Path:
    """``ref`` as a path if it exists, else a shipped scenario's name (with or without .toml)."""
    path = Path(ref)
    if path.is_file():
        return path
    name = path.name if path.suffix == ".toml" else f"{path.name}.toml"
    shipped = SHIPPED / name
    if shipped.is_file():
        try:
            return shipped.relative_to(Path.cwd())
        except ValueError:
            return shipped
    known = ", ".join(p.stem for p in shipped_scenarios())
    raise ZsimError(f"{ref}: no such scenario file (shipped scenarios: {known})")


def shipped_scenarios() -> list[Path]:
    return sorted(SHIPPED.glob("*.toml")) if SHIPPED.is_dir() else []
