"""docs/api.md is executable: its python blocks run in order, in one namespace, and pass."""

from __future__ import annotations

import re
from pathlib import Path

API_MD = Path(__file__).parent.parent / "docs" / "api.md"


def test_the_api_walkthrough_runs_as_written() -> None:
    blocks = re.findall(r"```python\n(.*?)```", API_MD.read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(API_MD), "exec"), namespace)
    assert namespace["tasks"].sum() == 100  # type: ignore[attr-defined]
