"""The explicit catalogue of every rule, in the order the docs list them."""

from __future__ import annotations

from rules.dockerfile import checks as dockerfile_checks
from rules.kubernetes import checks as kubernetes_checks
from rules.model import FileKind, FixAvailability, Rule, Severity

SKIPPED = Rule(
    "UR001",
    "file-skipped",
    FileKind.ANY,
    Severity.NOTICE,
    "The file could not be analysed",
    "A file that is not valid YAML or UTF-8, is binary, too large, a Helm template or an "
    "alias bomb is skipped with this notice, so a broken file never hides silently.",
    FixAvailability.NEVER,
    "Only the author can repair or render the file.",
)

RULES: tuple[Rule, ...] = (SKIPPED, *dockerfile_checks.RULES, *kubernetes_checks.RULES)


def by_id() -> dict[str, Rule]:
    """Rules keyed by ID."""
    return {rule.id: rule for rule in RULES}
