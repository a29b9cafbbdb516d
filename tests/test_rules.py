"""Every rule against its spec cases, and the catalogue's own completeness."""

from __future__ import annotations

import pytest
from rule_cases import CASES, Case
from validation import assert_valid_after_fix

from rules.analyze import analyze
from rules.fixes import apply
from rules.model import Rule, Severity
from rules.registry import RULES, by_id


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_case(case: Case) -> None:
    findings = [f for f in analyze(case.path, case.text) if f.rule == case.rule]
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
    findings = analyze(case.path, case.text)
    edits = [edit for f in findings if f.fix for edit in f.fix.edits]
    fixed = apply(case.text, edits)
    remaining = [f for f in analyze(case.path, fixed) if f.severity is Severity.ERROR]
    assert remaining == [], (fixed, [f.message for f in remaining])
    if any(f.rule == "UR001" for f in findings):
        assert fixed == case.text  # a skipped file is never touched
        return
    assert_valid_after_fix(case.path, case.text, fixed)


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


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_fixes_or_says_why_not(rule: Rule) -> None:
    rule_id = rule.id
    reason = by_id()[rule_id].no_fix_reason
    fixed_somewhere = any(
        f.fix is not None
        for case in CASES
        if case.rule == rule_id and case.fires
        for f in analyze(case.path, case.text)
        if f.rule == rule_id
    )
    assert fixed_somewhere or reason, f"{rule_id} has neither a fix nor a reason for none"
    if reason:
        assert not fixed_somewhere, f"{rule_id} says it has no fix but produced one"


def test_every_error_finding_in_the_cases_carries_a_fix() -> None:
    missing = [
        (case.id, f.rule, f.message)
        for case in CASES
        for f in analyze(case.path, case.text)
        if f.severity is Severity.ERROR and f.fix is None
    ]
    assert missing == []
