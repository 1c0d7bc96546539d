"""README's Python example runs as written (against a daemon without a hwrng)."""

from __future__ import annotations

import re

import pytest

import rngpool
from daemon_harness import ROOT


def python_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Python\n"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python section has no ```python block"
    return match.group(1)


def test_the_readme_example(daemon):
    namespace: dict = {}
    # The test daemon has no hwrng, so the require_hwrng line must refuse, and all before it work.
    with pytest.raises(rngpool.HwrngUnavailable):
        exec(compile(python_example(), "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    assert isinstance(namespace["session"], str) and 1 <= namespace["die"] <= 6
    assert sorted(namespace["deck"]) == list(range(52))
    strict = namespace["strict"]
    assert strict.health().state in ("ok", "degraded") and "health" in strict.status()
