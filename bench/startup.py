"""Start-up cost of `unroot check` on one small file, as a ratio to `python -c pass` in the same run.

    python bench/startup.py [--runs 15]

Editors and pre-commit hooks call `unroot check` once per file, so its start-up is its speed.
Both commands run alternately, RUNS times each, after one warm-up run, on a small Dockerfile
and on a small manifest; the medians and their ratio are printed (target: at most 3x).
Children run with bytecode caching on (PYTHONDONTWRITEBYTECODE removed), as an installed
`unroot` runs: without it, every start compiles every module again. Also lists any App module (aiohttp, gidgethub, cryptography, arq,
redis, prometheus_client, jwt) that the check path imported: there should be none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP_MODULES = ("aiohttp", "gidgethub", "cryptography", "arq", "redis", "prometheus_client", "jwt", "pythonjsonlogger")
ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _wall(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, check=False, env=_env())
    return time.perf_counter() - began


def _ratio(target: Path, runs: int) -> tuple[float, float]:
    """Median seconds of `python -c pass` and of `unroot check target`, run alternately."""
    check = [sys.executable, "-m", "bot.cli", "check", str(target)]
    _wall(check)  # warm-up: writes the bytecode caches a real install has
    baseline: list[float] = []
    own: list[float] = []
    for _ in range(runs):
        baseline.append(_wall([sys.executable, "-c", "pass"]))
        own.append(_wall(check))
    return statistics.median(baseline), statistics.median(own)


def imported_app_modules(path: str) -> list[str]:
    """App modules loaded by running `unroot check PATH` in a fresh interpreter."""
    probe = (
        "import sys\nfrom bot.cli import main\nmain(['check', sys.argv[1]])\n"
        f"print('modules:' + ','.join(m for m in {APP_MODULES!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, cwd=ROOT, check=False)
    marked = [line for line in result.stdout.splitlines() if line.startswith("modules:")]
    if not marked:
        raise RuntimeError(f"the probe did not run: {result.stderr[-500:]}")
    return [name for name in marked[-1].removeprefix("modules:").split(",") if name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "Dockerfile"
        target.write_text("FROM debian:12\nUSER 10001:10001\n")
        manifest = Path(folder) / "pod.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x:1\n"
        )
        for label, path in (("a small Dockerfile", target), ("a small manifest", manifest)):
            base, own = _ratio(path, options.runs)
            print(
                f"python -c pass: {base * 1000:.0f} ms; unroot check ({label}): {own * 1000:.0f} ms; "
                f"ratio {own / base:.2f}x (target <= 3x), medians of {options.runs}"
            )
        modules = imported_app_modules(str(target))
        print(f"App modules imported by the check path: {', '.join(modules) or 'none'}")
        return 0 if not modules else 1


if __name__ == "__main__":
    sys.exit(main())
