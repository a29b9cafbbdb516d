"""Every rule against its spec cases, and the catalogue's own completeness."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from rules.analyze import analyze
from rules.compose import family as compose_family
from rules.dockerfile import family as dockerfile_family
from rules.fixes import apply
from rules.kubernetes import family as kubernetes_family
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant
from rules.registry import RULES, by_id
from tests.rule_cases import CASES, Case
from tests.validation import assert_valid_after_fix


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_case(case: Case) -> None:
    findings = [f for f in analyze(case.path, case.text, case.options) if f.rule == case.rule]
    if not case.fires:
        assert findings == [], [f.message for f in findings]
        return
    assert findings, f"{case.rule} did not fire"
    if case.line is not None:
        assert case.line in [f.line for f in findings], [(f.line, f.message) for f in findings]
    if case.severity is not None:
        assert case.severity in [f.severity.value for f in findings]


@pytest.mark.parametrize("case", [c for c in CASES if c.fires], ids=lambda c: c.id)
def test_fixes_of_case_leave_no_error(case: Case) -> None:
    findings = analyze(case.path, case.text, case.options)
    edits = [edit for f in findings if f.fix for edit in f.fix.edits]
    fixed = apply(case.text, edits)
    # Errors no edit can repair (a power asked for by name, a UID nothing tells) stay; every other error must be gone.
    unfixable = sorted((f.rule, f.subject) for f in findings if f.severity is Severity.ERROR and f.fix is None)
    remaining = sorted(
        (f.rule, f.subject) for f in analyze(case.path, fixed, case.options) if f.severity is Severity.ERROR
    )
    assert remaining == unfixable, (fixed, remaining)
    if any(f.rule == "UR001" for f in findings):
        assert fixed == case.text  # a skipped file is never touched
        return
    if edits:  # nothing was fixed, so there is no fixed file to validate (a PodSecurityPolicy is no 1.30 kind)
        assert_valid_after_fix(case.path, case.text, fixed)


def test_cases_are_grouped_by_rule_in_registry_order() -> None:
    """One block per rule, so a rule's whole spec reads in one place (no appendix)."""
    blocks = [case.rule for index, case in enumerate(CASES) if index == 0 or CASES[index - 1].rule != case.rule]
    assert blocks == [rule.id for rule in RULES]


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 5 and i.startswith("UR") and i[2:].isdigit() for i in ids)
    assert len({rule.name for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_has_firing_and_quiet_cases(rule: Rule) -> None:
    cases = [c for c in CASES if c.rule == rule.id]
    assert any(c.fires for c in cases), "no case where the rule fires"
    assert any(not c.fires for c in cases), "no case where the rule stays quiet"


def _fixed_and_unfixed(rule: Rule) -> tuple[bool, bool]:
    """Whether the rule's firing cases give a finding of it with a fix, and one without."""
    fixes = [
        f.fix is not None
        for case in CASES
        if case.rule == rule.id and case.fires
        for f in analyze(case.path, case.text, case.options)
        if f.rule == rule.id
    ]
    return any(fixes), not all(fixes)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_fixes_as_its_fix_availability_says(rule: Rule) -> None:
    fixed, unfixed = _fixed_and_unfixed(rule)
    if rule.fix_availability is FixAvailability.ALWAYS:
        assert fixed and not unfixed, f"{rule.id} says it always has a fix, but a case fires without one"
    elif rule.fix_availability is FixAvailability.SOMETIMES:
        assert fixed and unfixed, (
            f"{rule.id} sometimes has a fix: its cases must show a finding with one and one without"
        )
    else:
        assert not fixed, f"{rule.id} says it has no fix ({rule.fix_reason}) but produced one"
    assert (rule.fix_reason is None) == (rule.fix_availability is FixAvailability.ALWAYS)


def test_every_error_finding_in_the_cases_carries_a_fix_or_says_why_not() -> None:
    missing = [
        (case.id, f.rule, f.message)
        for case in CASES
        for f in analyze(case.path, case.text, case.options)
        if f.severity is Severity.ERROR
        and f.fix is None
        and by_id()[f.rule].fix_availability is not FixAvailability.NEVER
        and "No fix offered" not in f.message
    ]
    assert missing == []


def _module_of(rule: Rule) -> ModuleType:
    """The one module a rule lives in, found from its ID and name alone."""
    family = {
        FileKind.DOCKERFILE: "rules.dockerfile.",
        FileKind.KUBERNETES: "rules.kubernetes.",
        FileKind.COMPOSE: "rules.compose.",
        FileKind.ANY: "rules.",
    }
    short = rule.name.removeprefix("k8s-").removeprefix("dockerfile-").removeprefix("compose-").replace("-", "_")
    return importlib.import_module(f"{family[rule.kind]}{rule.id.lower()}_{short}")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_lives_in_a_module_named_after_it(rule: Rule) -> None:
    module = _module_of(rule)
    assert module.RULE is rule
    assert (module.__doc__ or "").startswith(f"{rule.id} {rule.name}: ")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_message_templates_cover_exactly_the_rule_variants(rule: Rule) -> None:
    module = _module_of(rule)
    variants = [
        item
        for item in vars(module).values()
        if isinstance(item, type) and issubclass(item, Variant) and item is not Variant
    ]
    messages = getattr(module, "MESSAGES", None)
    if messages is None:
        assert not variants, f"{rule.id} has variants but no MESSAGES keyed by them"
        assert isinstance(getattr(module, "MESSAGE", None), str), f"{rule.id} keeps its message template in MESSAGE"
        return
    assert len(variants) == 1
    assert set(messages) == set(variants[0]), f"{rule.id}: one template per variant"


def test_the_families_run_every_rule_of_their_kind() -> None:
    ran = {
        check.__module__
        for check in (
            *kubernetes_family.POD_CHECKS,
            *kubernetes_family.CONTAINER_CHECKS,
            *kubernetes_family.OBJECT_CHECKS.values(),
            *dockerfile_family.CHECKS,
            *compose_family.CHECKS,
        )
    }
    expected = {_module_of(rule).__name__ for rule in RULES if rule.kind is not FileKind.ANY}
    assert ran == expected


def test_rule_finding_fills_in_the_rule() -> None:
    finding = by_id()["UR105"].finding("Dockerfile", 3, "text", subject="stage 1")
    assert (finding.rule, finding.severity, finding.line, finding.end_line, finding.fix) == (
        "UR105",
        Severity.WARNING,
        3,
        3,
        None,
    )
    assert finding.to_json()["message"] == "text"
    assert by_id()["UR201"].finding("p.yaml", 2, "m", end_line=4, severity=Severity.NOTICE).severity is Severity.NOTICE


def test_a_fix_reason_is_required_exactly_when_fixes_are_not_always_offered() -> None:
    with pytest.raises(ValueError):
        Rule("UR999", "x", FileKind.ANY, Severity.NOTICE, "t", "w", FixAvailability.NEVER)
    with pytest.raises(ValueError):
        Rule("UR999", "x", FileKind.ANY, Severity.NOTICE, "t", "w", fix_reason="why")
