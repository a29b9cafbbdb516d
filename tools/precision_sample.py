"""A seeded random sample of error findings over checked-out repositories, shown for a person to judge.

Usage: python -m tools.precision_sample DIR... [--seed N] [-n N] [--context N] [--jobs N]

Every file is analysed the way `unroot check` would; the error-level findings are put in a fixed
order (path, line, rule, message) and `n` of them drawn with `random.Random(seed)`, so the same
seed over the same trees and the same code draws the same sample.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rules.analyze import analyze_bytes, file_kind
from rules.model import Severity
from tools.repo_files import relative, walk


@dataclass(frozen=True, order=True)
class ErrorFinding:
    """One error finding, with where to read its file again."""

    path: str  # as shown: `repo/dir/file`
    line: int
    end_line: int
    rule: str
    message: str
    file: str  # on disk


def errors_in(job: tuple[str, str]) -> list[ErrorFinding]:
    """The error findings of one file (a worker-process entry point)."""
    file, display = job
    findings = analyze_bytes(display, Path(file).read_bytes())
    return [
        ErrorFinding(display, f.line, f.end_line, f.rule, f.message, file)
        for f in findings
        if f.severity is Severity.ERROR
    ]


def all_errors(roots: Sequence[Path], jobs: int = 1) -> list[ErrorFinding]:
    """Every error finding below the roots, in a fixed order."""
    work = [(str(path), relative(path, root)) for root in roots for path in walk(root) if file_kind(path.name)]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            found = [e for errors in pool.map(errors_in, work, chunksize=32) for e in errors]
    else:
        found = [e for job in work for e in errors_in(job)]
    return sorted(found)


def sample(findings: Sequence[ErrorFinding], size: int, seed: int) -> list[ErrorFinding]:
    """`size` findings drawn without replacement (all of them when there are fewer), in drawn order."""
    return random.Random(seed).sample(list(findings), min(size, len(findings)))


def excerpt(finding: ErrorFinding, context: int) -> list[str]:
    """The finding's lines with `context` lines either side, numbered, the finding's own marked `>`."""
    lines = Path(finding.file).read_text(encoding="utf-8", errors="replace").splitlines()
    first = max(1, finding.line - context)
    last = min(len(lines), finding.end_line + context)
    return [
        f"{'>' if finding.line <= number <= finding.end_line else ' '} {number:5} | {lines[number - 1]}"
        for number in range(first, last + 1)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the sample, each finding with its message and its file's lines around it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="+", type=Path, help="checked-out repositories")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    parser.add_argument("-n", type=int, default=50, help="findings to draw (default 50)")
    parser.add_argument("--context", type=int, default=6, help="lines shown either side (default 6)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the analysis (default 1)")
    args = parser.parse_args(argv)
    findings = all_errors(args.roots, args.jobs)
    drawn = sample(findings, args.n, args.seed)
    print(f"{len(findings)} error findings; {len(drawn)} drawn with seed {args.seed}")
    for number, finding in enumerate(drawn, 1):
        print(f"\n### {number}/{len(drawn)} {finding.rule} {finding.path}:{finding.line}")
        print(finding.message)
        print("\n".join(excerpt(finding, args.context)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
