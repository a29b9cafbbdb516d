"""The fix property of tools/fuzz_fixes.py, derandomized and small, on every suite run."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOOL = Path(__file__).resolve().parents[1] / "tools" / "fuzz_fixes.py"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_fixes", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FUZZ = _load_tool()
# The shipped seeds only (not ../shared/corpus): the suite must not depend on what is beside it.
SEEDS = FUZZ.load_seeds([Path(__file__).resolve().parents[1] / "examples"])


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(SEEDS) - 1), st.integers(min_value=0, max_value=2**32))
def test_fix_never_damages_a_file(index: int, seed: int) -> None:
    name, text, applied = FUZZ.mutate(random.Random(seed), *SEEDS[index])
    broken, _powers, _fixes = FUZZ.violations(name, text)
    assert broken == [], (name, applied, text)


def test_the_seeds_cover_both_kinds_and_the_hard_shapes() -> None:
    names = [name for name, _text in SEEDS]
    assert len(SEEDS) > 30
    assert any(n.endswith("Dockerfile") for n in names) and any(n.endswith(".yaml") for n in names)
    assert {"alias/pod.yaml", "json/pod.json", "heredoc/Dockerfile"} <= set(names)
