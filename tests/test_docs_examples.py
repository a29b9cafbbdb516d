"""The rule docs are checked against the code, so they cannot drift from it.

Every rule in the registry has a page, rules/docs/<ID>.md. Its examples are analysed
with the real analyser: the first fenced block under "## Bad" must produce a finding of
the rule, the one under "## Good" none of it (and no error or warning of any rule, since
it is shown as the way to write it). When the page shows the result of `unroot fix` (a
fenced block under "## Fix"), that is exactly what applying the Bad example's fixes gives,
and the example under "## Suppress" is silenced by its suppression comment or annotation
alone. Good and fixed manifests must pass the Kubernetes API schema. The index in
rules/docs/README.md lists every rule as the registry describes it (fix availability
included), and each page's "Why" begins with the registry's one-line why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rules.analyze import analyze
from rules.fixes import apply
from rules.model import FileKind, Finding, FixAvailability, Options, Rule, Severity
from rules.registry import RULES, SKIPPED
from rules.repository import from_texts, references

DOCS = Path(__file__).resolve().parent.parent / "rules" / "docs"
SECTIONS = ("Severity", "Why", "Bad", "Good", "Fix", "Suppress", "References")
# The file name each example language is analysed under.
EXAMPLE_PATHS = {"dockerfile": "Dockerfile", "yaml": "example.yaml"}
COMPOSE_EXAMPLE_PATH = "compose.yaml"  # where a compose rule's page analyses its yaml examples
CHECKED = [rule for rule in RULES if rule is not SKIPPED]
KUBERNETES_VERSION = "1.30"  # the schema version the Good and fixed manifests are validated against

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)(?:\s+(\S+))?")
_SUPPRESSION_LINE = re.compile(r"unroot: ignore=|unroot\.dev/ignore")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its info-string language and its text."""

    language: str
    code: str
    compose: bool = False  # a compose rule's example: its yaml is a compose file
    file: str | None = None  # set for a block that shows another file of the example's repository

    @property
    def path(self) -> str:
        if self.compose and self.language == "yaml":
            return COMPOSE_EXAMPLE_PATH
        assert self.language in EXAMPLE_PATHS, (
            f"example blocks must be {' or '.join(EXAMPLE_PATHS)}, not {self.language!r}"
        )
        return EXAMPLE_PATHS[self.language]


@dataclass(frozen=True)
class Page:
    """A rule's docs page: its title line and its level-2 sections."""

    title: str
    sections: dict[str, str]  # heading -> body text (blocks included)
    compose: bool = False  # the page of a compose rule

    def block(self, section: str) -> Block | None:
        """The first fenced code block of `section` that is the example itself, if any."""
        block = next((b for b in blocks(self.sections.get(section, "")) if b.file is None), None)
        return replace(block, compose=self.compose) if block else None

    @property
    def options(self) -> Options:
        """What the analysis knows of the example's repository: the Bad section's blocks whose info
        string names a file (```dockerfile app/Dockerfile)."""
        files = {b.file: b.code for b in blocks(self.sections.get("Bad", "")) if b.file is not None}
        if not files:
            return Options()
        wanted = {
            ref for section in self.sections.values() for b in blocks(section) for ref in references(b.path, b.code)
        }
        return Options(knowledge=from_texts(files, wanted))


def _lines_outside_fences(text: str) -> list[tuple[str, bool]]:
    """Each line with whether it lies inside a fenced block (fence lines count as inside)."""
    result: list[tuple[str, bool]] = []
    fence: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            result.append((line, True))
        elif fence is not None:
            result.append((line, True))
            if line.strip().startswith(fence[0] * len(fence)) and line.strip().strip(fence[0]) == "":
                fence = None
        else:
            result.append((line, False))
    return result


def blocks(text: str) -> list[Block]:
    """The fenced blocks in `text`, in order."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        index += 1
        if not match:
            continue
        fence = match.group(1)
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise AssertionError(f"unclosed code block: {match.group(0)!r}")
            candidate = lines[index]
            index += 1
            stripped = candidate.strip()
            if stripped.startswith(fence[0] * len(fence)) and stripped.strip(fence[0]) == "":
                found.append(Block(match.group(2).lower(), "\n".join(body) + "\n", file=match.group(3)))
                break
            body.append(candidate)
    return found


def parse_page(text: str) -> Page:
    """Split a page into its `# ` title and `## ` sections; `#` lines in code blocks are code."""
    title = ""
    sections: dict[str, str] = {}
    current: str | None = None
    for line, in_fence in _lines_outside_fences(text):
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and not title:
            title = heading.group(2)
            continue
        if heading and len(heading.group(1)) == 2:
            current = heading.group(2)
            assert current not in sections, f"section {current!r} appears twice"
            sections[current] = ""
            continue
        if current is not None:
            sections[current] += line + "\n"
    return Page(title, sections)


def page(rule: Rule) -> Page:
    """The parsed docs page of `rule`."""
    parsed = parse_page((DOCS / f"{rule.id}.md").read_text(encoding="utf-8"))
    return replace(parsed, compose=rule.kind is FileKind.COMPOSE)


def of_rule(findings: list[Finding], rule: Rule) -> list[Finding]:
    return [f for f in findings if f.rule == rule.id]


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  line {f.line}: {f.rule} {f.severity.value} {f.message}" for f in findings) or "  (none)"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_has_a_page(rule: Rule) -> None:
    path = DOCS / f"{rule.id}.md"
    assert path.is_file(), f"{rule.id} has no docs page at {rule.docs_path}"
    parsed = page(rule)
    assert parsed.title == f"{rule.id} {rule.name}: {rule.title}"
    missing = [name for name in SECTIONS if name not in parsed.sections]
    assert not missing, f"{rule.docs_path} lacks the sections {missing}"
    assert parsed.block("Bad") is not None, f"{rule.docs_path} has no code block under Bad"
    assert parsed.block("Good") is not None, f"{rule.docs_path} has no code block under Good"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_page_states_the_registry_facts(rule: Rule) -> None:
    parsed = page(rule)
    assert re.search(rf"\b{rule.severity.value}\b", parsed.sections["Severity"]), (
        f"{rule.docs_path}: the Severity section never names the rule's severity, {rule.severity.value}"
    )
    fix_section = parsed.sections["Fix"].lower()
    if rule.fix_availability is FixAvailability.NEVER:
        assert "no automatic fix" in fix_section, (
            f"{rule.docs_path}: {rule.id} has no fix ({rule.fix_reason}), and the Fix section should say so"
        )
    elif rule.fix_availability is FixAvailability.SOMETIMES:
        assert re.search(r"\bno (?:automatic )?fix\b", fix_section), (
            f"{rule.docs_path}: {rule.id} has a fix only sometimes ({rule.fix_reason}); the Fix section should say when not"
        )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_why_begins_with_the_registry_why(rule: Rule) -> None:
    """The catalogue's one-line why (shown in SARIF and review comments) opens the page's Why."""
    why = " ".join(page(rule).sections["Why"].split())
    assert why.startswith(" ".join(rule.why.split())), f"{rule.docs_path}: the Why section must begin with: {rule.why}"


@pytest.mark.parametrize("rule", CHECKED, ids=lambda rule: rule.id)
def test_bad_example_is_found(rule: Rule) -> None:
    block = page(rule).block("Bad")
    assert block is not None
    findings = analyze(block.path, block.code, page(rule).options)
    found = of_rule(findings, rule)
    assert found, f"the Bad example of {rule.id} produces no {rule.id}; it produces:\n{describe(findings)}"
    severities = page(rule).sections["Severity"]
    for finding in found:
        assert re.search(rf"\b{finding.severity.value}\b", severities), (
            f"the Bad example of {rule.id} gives a {finding.severity.value}, which its Severity section never names"
        )


@pytest.mark.parametrize("rule", CHECKED, ids=lambda rule: rule.id)
def test_good_example_is_clean(rule: Rule) -> None:
    block = page(rule).block("Good")
    assert block is not None
    findings = analyze(block.path, block.code, page(rule).options)
    assert not of_rule(findings, rule), f"the Good example of {rule.id} still produces it:\n{describe(findings)}"
    serious = [f for f in findings if f.severity is not Severity.NOTICE]
    assert not serious, f"the Good example of {rule.id} has errors or warnings of other rules:\n{describe(serious)}"


def _shows_fixed_file(rule: Rule) -> bool:
    return page(rule).block("Fix") is not None


def _shows_manifest(rule: Rule) -> bool:
    blocks = (page(rule).block("Good"), page(rule).block("Fix"))
    return any(block and block.path == EXAMPLE_PATHS["yaml"] for block in blocks)


def test_every_page_with_an_automatic_fix_shows_it_except_the_listed_ones() -> None:
    # Pages without a fixed file: rules with no fix (UR204, UR207: powers stay; compose UR302-UR305 included), and UR104 (its fix only drops `sudo`).
    without = {rule.id for rule in CHECKED if not _shows_fixed_file(rule)}
    assert without == {
        "UR104",
        "UR105",
        "UR204",
        "UR207",
        "UR208",
        "UR211",
        *(f"UR{n}" for n in range(212, 220)),
        "UR302",
        "UR303",
        "UR304",
        "UR305",
    }


@pytest.mark.parametrize("rule", [r for r in CHECKED if _shows_fixed_file(r)], ids=lambda rule: rule.id)
def test_fix_example_is_what_unroot_fix_writes(rule: Rule) -> None:
    parsed = page(rule)
    shown = parsed.block("Fix")
    assert shown is not None
    bad = parsed.block("Bad")
    assert bad is not None and shown.language == bad.language
    findings = analyze(bad.path, bad.code, parsed.options)
    edits = [edit for f in findings if f.fix is not None for edit in f.fix.edits]
    assert any(f.fix is not None for f in of_rule(findings, rule)), f"the Bad example of {rule.id} has no fix to show"
    fixed = apply(bad.code, edits)
    assert fixed == shown.code, f"{rule.docs_path}: `unroot fix` turns the Bad example into:\n{fixed}"
    assert not of_rule(analyze(bad.path, fixed, parsed.options), rule), (
        f"the fixed Bad example of {rule.id} still produces it"
    )


@pytest.mark.parametrize("rule", CHECKED, ids=lambda rule: rule.id)
def test_suppress_example_silences_only_by_its_suppression(rule: Rule) -> None:
    block = page(rule).block("Suppress")
    assert block is not None, f"{rule.docs_path} shows no suppression example"
    findings = analyze(block.path, block.code, page(rule).options)
    assert not of_rule(findings, rule), f"the Suppress example of {rule.id} still produces it:\n{describe(findings)}"
    assert rule.id in "".join(line for line in block.code.splitlines() if _SUPPRESSION_LINE.search(line))
    unsuppressed = "".join(line + "\n" for line in block.code.splitlines() if not _SUPPRESSION_LINE.search(line))
    assert of_rule(analyze(block.path, unsuppressed, page(rule).options), rule), (
        f"the Suppress example of {rule.id} does not produce it even without its suppression"
    )


@pytest.mark.parametrize("rule", [r for r in CHECKED if _shows_manifest(r)], ids=lambda rule: rule.id)
def test_good_and_fixed_manifests_are_valid_kubernetes(rule: Rule) -> None:
    """What the docs recommend, and what `unroot fix` writes, must be accepted by the API schema."""
    import kubernetes_validate

    parsed = page(rule)
    blocks = [
        block for block in (parsed.block("Good"), parsed.block("Fix")) if block and block.path == EXAMPLE_PATHS["yaml"]
    ]
    for block in blocks:
        for document in YAML(typ="safe", pure=True).load_all(block.code):
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_skipped_file_examples() -> None:
    parsed = page(SKIPPED)
    bad, good = parsed.block("Bad"), parsed.block("Good")
    assert bad is not None and good is not None
    assert of_rule(analyze(bad.path, bad.code), SKIPPED), "the Bad example of UR001 is not skipped"
    assert not analyze(good.path, good.code), "the Good example of UR001 has findings"


def _index_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in (DOCS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        match = re.fullmatch(r"\[(UR\d{3})\]\((UR\d{3})\.md\)", cells[0])
        if match:
            assert match.group(1) == match.group(2), f"index row links {cells[0]} to the wrong page"
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = cells
    return rows


def test_index_lists_every_rule_as_the_registry_does() -> None:
    rows = _index_rows()
    assert list(rows) == [rule.id for rule in RULES], "the index must list every rule once, in registry order"
    for rule in RULES:
        _id, name, title, severity, fix = rows[rule.id]
        assert name == f"`{rule.name}`"
        assert title == rule.title
        assert severity == rule.severity.value
        assert fix == rule.fix_availability.value


def test_no_stray_pages() -> None:
    pages = {path.stem for path in DOCS.glob("UR*.md")}
    assert pages == {rule.id for rule in RULES}, "every UR page must belong to a rule in the registry"
