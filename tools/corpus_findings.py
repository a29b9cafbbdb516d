"""Every finding over a corpus as sorted TSV, and the verdicts that changed between two such dumps.

Usage:
    python -m tools.corpus_findings DIR [--out FILE]     # dump (stdout by default)
    python -m tools.corpus_findings --diff A.tsv B.tsv   # changed verdicts by rule; exit 1 if any

Columns: path (relative to DIR), line, rule, severity, variant, the message's first 80 characters.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rules.analyze import analyze_bytes
from rules.model import Finding
from tools.repo_files import walk

COLUMNS = ("path", "line", "rule", "severity", "variant", "message")
MESSAGE_CHARS = 80


@dataclass(frozen=True, order=True)
class Row:
    """One finding as the dump records it; ordered by path, then line, then the rest."""

    path: str
    line: int
    rule: str
    severity: str
    variant: str
    message: str

    @property
    def place(self) -> tuple[str, int, str, str]:
        """What pairs a row of one dump with the same verdict's row in another."""
        return (self.path, self.line, self.rule, self.variant)

    def tsv(self) -> str:
        """The row as one TSV line."""
        return "\t".join((self.path, str(self.line), self.rule, self.severity, self.variant, self.message))

    def show(self) -> str:
        """How the diff prints it."""
        return f"{self.path}:{self.line} {self.severity} {self.variant} {self.message}"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MESSAGE_CHARS]


def row_of(finding: Finding, path: str) -> Row:
    """The dump's row for one finding of the file at `path`."""
    variant = finding.variant.name if finding.variant is not None else "-"
    return Row(path, finding.line, finding.rule, finding.severity.value, variant, _one_line(finding.message))


def dump(corpus: Path) -> list[Row]:
    """Every finding of every file below `corpus`, sorted."""
    rows: list[Row] = []
    for file in walk(corpus):
        path = file.relative_to(corpus).as_posix()
        rows += [row_of(finding, path) for finding in analyze_bytes(path, file.read_bytes())]
    return sorted(rows)


def parse(lines: Iterable[str]) -> list[Row]:
    """Rows back from a dump's text (a header line, if any, is skipped)."""
    rows: list[Row] = []
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        if len(fields) != len(COLUMNS) or fields[0] == "path":
            continue
        path, number, rule, severity, variant, message = fields
        rows.append(Row(path, int(number), rule, severity, variant, message))
    return rows


@dataclass(frozen=True)
class Change:
    """One verdict that differs: gone (`before` only), new (`after` only), or changed (both)."""

    before: Row | None
    after: Row | None

    @property
    def rule(self) -> str:
        """The rule the change belongs to."""
        row = self.before or self.after
        assert row is not None
        return row.rule

    def show(self) -> str:
        """One line: `-` gone, `+` new, `~` same place with another severity or message."""
        if self.after is None:
            assert self.before is not None
            return f"  - {self.before.show()}"
        if self.before is None:
            return f"  + {self.after.show()}"
        severity = self.before.severity
        if self.after.severity != severity:
            severity = f"{severity} -> {self.after.severity}"
        return f"  ~ {self.after.path}:{self.after.line} {severity} {self.after.variant} {self.after.message}"


def changes(before: Sequence[Row], after: Sequence[Row]) -> list[Change]:
    """The verdicts that differ between two dumps, rows at one place paired up first."""
    gone = Counter(before) - Counter(after)
    new = Counter(after) - Counter(before)
    by_place: defaultdict[tuple[str, int, str, str], list[Row]] = defaultdict(list)
    for row in sorted(new.elements()):
        by_place[row.place].append(row)
    result: list[Change] = []
    for row in sorted(gone.elements()):
        partners = by_place.get(row.place)
        result.append(Change(row, partners.pop(0) if partners else None))
    result += [Change(None, row) for rows in by_place.values() for row in rows]
    return sorted(result, key=lambda c: (c.rule, (c.before or c.after or Row("", 0, "", "", "", "")).place))


def diff_report(found: Sequence[Change]) -> list[str]:
    """Changed verdicts grouped by rule, with counts per rule."""
    lines: list[str] = []
    by_rule: defaultdict[str, list[Change]] = defaultdict(list)
    for change in found:
        by_rule[change.rule].append(change)
    for rule, rule_changes in sorted(by_rule.items()):
        gone = sum(1 for c in rule_changes if c.after is None)
        new = sum(1 for c in rule_changes if c.before is None)
        changed = len(rule_changes) - gone - new
        lines.append(f"== {rule}: {gone} gone, {new} new, {changed} changed ==")
        lines += [change.show() for change in rule_changes]
    lines.append(f"{len(found)} changed verdicts" if found else "no changed verdicts")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Dump a corpus's findings, or diff two dumps."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="folder whose files are analysed")
    parser.add_argument("--out", type=Path, help="write the dump here instead of stdout")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("A.tsv", "B.tsv"), help="compare two dumps")
    args = parser.parse_args(argv)
    if args.diff:
        before, after = (parse(path.read_text(encoding="utf-8").splitlines()) for path in args.diff)
        found = changes(before, after)
        print("\n".join(diff_report(found)))
        return 1 if found else 0
    if args.corpus is None or not args.corpus.is_dir():
        parser.error("give a corpus folder, or --diff A.tsv B.tsv")
    text = "".join(line + "\n" for line in ["\t".join(COLUMNS), *(row.tsv() for row in dump(args.corpus))])
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
