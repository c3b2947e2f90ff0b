"""Every statement of SECURITY.md names the test that shows it: each named test exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_security_md_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    refs = set(re.findall(r"`([\w/]+\.py)::(\w+)`", text))
    assert len(refs) > 40
    missing = []
    for file, name in sorted(refs):
        path = ROOT / "tests" / file
        if not path.is_file() or not re.search(rf"^(async )?def {name}\b", path.read_text(), re.M):
            missing.append(f"{file}::{name}")
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"
