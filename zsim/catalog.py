"""Where the shipped scenarios live, and finding a scenario by path or by name."""

from __future__ import annotations

from pathlib import Path

from zsim.errors import ZsimError

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"


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
