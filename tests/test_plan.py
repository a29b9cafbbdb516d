"""The review planner: anchors GitHub accepts, suggestions that fix, no reposts, bounded output."""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config import DOCS_URL, RepoConfig, ReviewSettings
from bot.diff import FileChange, Hunk, parse_patch
from bot.fingerprint import fingerprint, fingerprints_in, marker
from bot.job import Meta, _plan
from bot.outputs import Plan
from bot.plan import plan_review
from rules.analyze import analyze
from rules.fixes import apply
from rules.model import Finding, Fix, LineEdit, Severity
from rules.registry import by_id

DOCKERFILE = """\
# A typical Python service image: it runs as root.
FROM python:3.12-slim AS build
RUN pip install --no-cache-dir --prefix=/install flask gunicorn

FROM python:3.12-slim
COPY --from=build /install /usr/local
WORKDIR /srv/app
COPY . .
RUN apt-get update && apt-get install -y --no-install-recommends sudo curl \\
    && rm -rf /var/lib/apt/lists/*
EXPOSE 8080
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]
"""

DEPLOYMENT = """\
# The same service on Kubernetes.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.4.2
          ports:
            - containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: true
        - name: log-shipper
          image: fluent/fluent-bit:3.1
          securityContext:
            allowPrivilegeEscalation: true
            capabilities:
              drop: ["NET_RAW"]
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  securityContext:
    runAsUser: 0
  containers:
    - name: a
      image: a:1
"""


# ---------------------------------------------------------------- helpers


def make_patch(old: str, new: str, context: int = 3) -> str | None:
    """A GitHub-style patch (hunks only, no ---/+++ headers), as difflib writes it."""
    lines = list(difflib.unified_diff(old.splitlines(True), new.splitlines(True), n=context))
    return "".join(lines[2:]) if lines else None


def pr(files: dict[str, tuple[str, str]], context: int = 3) -> tuple[list[Finding], list[FileChange], dict[str, str]]:
    """Findings, changes and head texts for a PR taking each path from old to new text."""
    findings: list[Finding] = []
    changes: list[FileChange] = []
    heads: dict[str, str] = {}
    for path, (old, new) in files.items():
        findings.extend(analyze(path, new))
        changes.append(FileChange(path, "added" if old == "" else "modified", make_patch(old, new, context)))
        heads[path] = new
    return findings, changes, heads


SUGGESTION_OPEN = re.compile(r"^(`{3,})suggestion$")


def suggestion_of(body: str) -> str | None:
    """The replacement text of a ```suggestion block (with a final newline unless it deletes)."""
    lines = body.split("\n")
    for n, line in enumerate(lines):
        opened = SUGGESTION_OPEN.match(line)
        if opened:
            end = lines.index(opened[1], n + 1)
            content = lines[n + 1 : end]
            return "".join(part + "\n" for part in content)
    return None


def apply_suggestions(text: str, plan: Plan, path: str) -> str:
    """Commit every suggestion of `path` in one batch, as GitHub does: lines start_line..line are replaced."""
    lines = text.splitlines(True)
    chosen = [c for c in plan.comments if c.path == path and suggestion_of(c.body) is not None]
    for comment in sorted(chosen, key=lambda c: -c.line):
        start = comment.start_line or comment.line
        replacement = suggestion_of(comment.body)
        assert replacement is not None
        lines[start - 1 : comment.line] = replacement.splitlines(True)
    return "".join(lines)


def assert_anchors_valid(plan: Plan, changes: list[FileChange]) -> None:
    """Every comment targets RIGHT lines of one hunk of its file (else GitHub rejects the review)."""
    patches = {c.path: c for c in changes}
    for comment in plan.comments:
        change = patches[comment.path]
        assert change.patch is not None and change.status != "removed"
        start = comment.start_line if comment.start_line is not None else comment.line
        if comment.start_line is not None:
            assert comment.start_line < comment.line
        assert any(
            all(n in hunk.right_lines for n in range(start, comment.line + 1)) for hunk in parse_patch(change.patch)
        ), (comment.path, start, comment.line)
        assert comment.body.rstrip().endswith(marker(comment.fingerprints[-1]))
        assert fingerprints_in(comment.body) == set(comment.fingerprints)


def reviewed(findings: list[Finding]) -> list[Finding]:
    """The findings a review speaks of by default: errors, and warnings with a fix to commit."""
    return [
        f
        for f in findings
        if f.severity is Severity.ERROR or (f.severity is Severity.WARNING and f.fix is not None and f.fix.edits)
    ]


def errors(path: str, text: str) -> list[Finding]:
    return [f for f in analyze(path, text) if f.severity is Severity.ERROR]


# ---------------------------------------------------------------- parse_patch


def test_parse_patch_counts_right_lines() -> None:
    patch = "@@ -1,3 +1,4 @@ FROM x\n a\n-b\n+B\n+B2\n c\n@@ -10 +11 @@\n-x\n+y\n"
    assert parse_patch(patch) == [
        Hunk(1, 4, frozenset({1, 2, 3, 4})),
        Hunk(11, 11, frozenset({11})),
    ]


def test_parse_patch_zero_length_sides_and_no_newline_marker() -> None:
    deletion_only = "@@ -4,2 +3,0 @@\n-gone\n-gone too\n"
    assert parse_patch(deletion_only) == [Hunk(3, 2, frozenset())]
    added_file = "@@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\n"
    assert parse_patch(added_file) == [Hunk(1, 2, frozenset({1, 2}))]
    removed_file = "@@ -1,2 +0,0 @@\n-one\n-two\n"
    assert parse_patch(removed_file) == [Hunk(0, -1, frozenset())]
    both_markers = "@@ -1 +1 @@\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file"
    assert parse_patch(both_markers) == [Hunk(1, 1, frozenset({1}))]


def test_parse_patch_crlf_empty_and_garbage_never_raise() -> None:
    assert parse_patch("@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n") == [Hunk(1, 2, frozenset({1, 2}))]
    assert parse_patch("") == []
    assert parse_patch("Binary files differ") == []
    assert parse_patch("@@ -1,2 +1,2 @@") == [Hunk(1, 2, frozenset())]  # truncated: no lines
    # A context line whose leading space was stripped by a tool still counts.
    assert parse_patch("@@ -1,3 +1,3 @@\n a\n\n-c\n+C\n") == [Hunk(1, 3, frozenset({1, 2, 3}))]
    # Lines past what the header announces, and junk between hunks, are ignored.
    junk = "@@ -1 +1 @@\n-a\n+b\n+extra\nrandom text\n@@ -5,1 +6,1 @@\n-x\n+y\n"
    assert parse_patch(junk) == [Hunk(1, 1, frozenset({1})), Hunk(6, 6, frozenset({6}))]
    for garbage in ("@@ -a,b +c,d @@\n+x", "@@@ -1 +1 @@@\n+x", "\x00\xff", "@@ -1,9999999999999999999 +1,5 @@\n"):
        parse_patch(garbage)


def test_parse_patch_matches_difflib_on_random_edits() -> None:
    rng = random.Random(7)
    for _ in range(300):
        old = [f"line {n}\n" for n in range(rng.randint(0, 30))]
        new = list(old)
        for _ in range(rng.randint(1, 4)):
            where = rng.randint(0, len(new))
            if new and rng.random() < 0.4:
                del new[min(where, len(new) - 1)]
            else:
                new.insert(where, f"new {rng.random()}\n")
        patch = make_patch("".join(old), "".join(new), context=0)
        if patch is None:
            continue
        added: set[int] = set()
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
            if tag in ("insert", "replace"):
                added.update(range(j1 + 1, j2 + 1))
        right = set().union(*(h.right_lines for h in parse_patch(patch)))
        assert right == added
        for hunk in parse_patch(patch):
            assert all(hunk.new_start <= n <= hunk.new_end for n in hunk.right_lines)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_parse_patch_reads_real_git_diff(tmp_path: Path) -> None:
    new = DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace("fluent-bit:3.1", "fluent-bit:3.2")
    new = new.replace("# The same service on Kubernetes.\n", "")
    (tmp_path / "old.yaml").write_text(DEPLOYMENT)
    (tmp_path / "new.yaml").write_text(new)
    result = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "old.yaml", "new.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    patch = result.stdout[result.stdout.index("@@") :]
    new_lines = new.splitlines()
    assert parse_patch(patch) == [  # the deleted first line, replicas (line 8), the image (line 25)
        Hunk(1, 3, frozenset(range(1, 4))),
        Hunk(5, 11, frozenset(range(5, 12))),
        Hunk(22, 28, frozenset(range(22, 29))),
    ]
    assert new_lines[7].endswith("replicas: 3") and new_lines[24].endswith("fluent-bit:3.2")


# ---------------------------------------------------------------- fingerprints


def test_fingerprint_is_stable_when_lines_move_and_changes_with_the_line() -> None:
    (before,) = [f for f in analyze("Dockerfile", DOCKERFILE) if f.rule == "UR102"]
    shifted = "# one more comment\n# and another\n" + DOCKERFILE
    (after,) = [f for f in analyze("Dockerfile", shifted) if f.rule == "UR102"]
    assert after.line == before.line + 2
    assert fingerprint(before, DOCKERFILE) == fingerprint(after, shifted)
    assert fingerprint(before, DOCKERFILE) == fingerprint(before, DOCKERFILE.replace("\n", "  \r\n"))
    edited = DOCKERFILE.replace('"app:app"]', '"app:main"]')
    (changed,) = [f for f in analyze("Dockerfile", edited) if f.rule == "UR102"]
    assert fingerprint(changed, edited) != fingerprint(before, DOCKERFILE)
    fp = fingerprint(before, DOCKERFILE)
    assert re.fullmatch(r"UR102:Dockerfile:[0-9a-f]{12}", fp)


def test_markers_round_trip_even_for_paths_with_colons() -> None:
    fps = {"UR201:k8s/a:b.yaml:0123456789ab", "UR102:Dockerfile:abcdefabcdef"}
    body = "text\n" + "\n".join(marker(fp) for fp in sorted(fps)) + "\n<!-- unrelated -->"
    assert marker("UR102:Dockerfile:abcdefabcdef") == "<!-- unroot:UR102:Dockerfile:abcdefabcdef -->"
    assert fingerprints_in(body) == fps
    assert fingerprints_in("no markers") == set()


# ---------------------------------------------------------------- placement


def test_new_dockerfile_gets_a_suggestion_that_removes_every_error() -> None:
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE)})
    plan = plan_review(findings, changes, heads, files_checked=1)
    assert_anchors_valid(plan, changes)
    by_rule = {c.fingerprints[0].split(":")[0]: c for c in plan.comments}
    ur102 = by_rule["UR102"]
    assert ur102.line == 12 and ur102.start_line is None
    assert "```suggestion\n" in ur102.body and "USER 10001:10001" in ur102.body
    assert "[UR102 docs](https://github.com/unroot-dev/unroot/blob/main/rules/docs/UR102.md)" in ur102.body
    assert by_id()["UR102"].title in ur102.body and by_id()["UR102"].why in ur102.body
    assert ur102.body.index("**Fix:**") < ur102.body.index("```suggestion") < ur102.body.index("<!-- unroot:")
    # The sudo warning has no fix: its annotation says it, no inline comment takes a slot (issue 15).
    assert set(by_rule) == {"UR102"}
    assert any(a.title.startswith("UR104") and (a.start_line, a.end_line) == (9, 10) for a in plan.annotations)
    assert plan.conclusion == "failure"
    assert plan.title == "1 error, 1 warning in 1 file"
    assert plan.review_body.startswith(
        "**unroot** found 1 error: 1 inline comment. Also 1 warning without an inline comment: see the check"
    )
    fixed = apply_suggestions(DOCKERFILE, plan, "Dockerfile")
    assert errors("Dockerfile", fixed) == []


def test_change_far_from_the_finding_goes_to_the_review_body() -> None:
    head = DOCKERFILE.replace("flask gunicorn", "flask gunicorn requests")  # line 3; the finding is at 12
    findings, changes, heads = pr({"Dockerfile": (DOCKERFILE, head)})
    plan = plan_review(findings, changes, heads)
    assert plan.comments == ()
    assert "### Outside the diff" in plan.review_body
    # One line for it (the details and the fix are in its annotation), and its marker.
    assert "- `Dockerfile` line 12: UR102 The final stage never sets USER" in plan.review_body
    assert "```" not in plan.review_body
    assert fingerprints_in(plan.review_body) == {fingerprint(f, head) for f in reviewed(findings)}
    assert len(plan.annotations) == len(findings)


def test_finding_line_in_the_diff_but_fix_outside_gets_a_comment_with_a_diff() -> None:
    head = DEPLOYMENT.replace("web:1.4.2", "web:1.4.3")  # line 20, the 'web' container's image
    findings, changes, heads = pr({"deploy.yaml": (DEPLOYMENT, head)}, context=1)
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    assert changes[0].patch is not None
    assert set().union(*(h.right_lines for h in parse_patch(changes[0].patch))) == {19, 20, 21}
    # The pod-level fix (line 18) is outside the hunk: the comment sits on the finding's line.
    (pod_level,) = [c for c in plan.comments if "pod's securityContext" in c.body]
    assert (pod_level.start_line, pod_level.line) == (None, 20)
    assert "suggestion" not in pod_level.body
    assert "```diff\n@@ -18,1 +18,7 @@\n-      containers:\n+      securityContext:" in pod_level.body
    # Its group holds the log-shipper's findings too, although their lines are outside the diff.
    assert "containers web, log-shipper of Deployment/web: may run as root" in pod_level.body
    outside_diff = [f for f in findings if f.line not in {19, 20, 21}]
    assert outside_diff and "### Outside the diff" in plan.review_body


def test_identical_fixes_make_one_comment_with_every_fingerprint() -> None:
    # Only the pod's fix is inside the diff: it is the one suggestion, and the findings whose fixes
    # are that one share its comment.
    head = DEPLOYMENT.replace("    spec:\n      containers:", "    spec:\n      # pods\n      containers:")
    findings, changes, heads = pr({"deploy.yaml": (DEPLOYMENT, head)}, context=1)
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    pod_fix = [f for f in findings if f.fix is not None and f.fix.edits[0].start_line == 19]
    assert {f.rule for f in pod_fix} == {"UR201", "UR209"} and len(pod_fix) == 4
    (comment,) = [c for c in plan.comments if c.line == 19]
    assert set(comment.fingerprints) == {fingerprint(f, head) for f in pod_fix}
    # Per rule one line naming both containers, not one bullet per finding.
    assert "containers web, log-shipper of Deployment/web: may run as root" in comment.body
    assert "\n- " not in comment.body
    assert comment.body.count("```suggestion") == 1
    # The notices without a fix get no comment: they are in the annotations.
    no_fix = [f for f in findings if f.fix is None]
    assert len(no_fix) == 2 and all(f.severity is Severity.NOTICE for f in no_fix)
    posted = {fp for c in plan.comments for fp in c.fingerprints} | fingerprints_in(plan.review_body)
    assert posted == {fingerprint(f, head) for f in reviewed(findings)}


def test_the_fixes_of_one_object_in_one_hunk_are_one_comment_with_one_suggestion() -> None:
    findings, changes, heads = pr({"deploy.yaml": ("", DEPLOYMENT)})
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    (comment,) = plan.comments
    assert comment.body.count("```suggestion") == 1
    assert set(comment.fingerprints) == {fingerprint(f, DEPLOYMENT) for f in reviewed(findings)}
    # One click leaves the lines as every fix applied would (what `unroot fix` writes).
    every_fix = [e for f in findings if f.fix is not None for e in f.fix.edits]
    assert apply_suggestions(DEPLOYMENT, plan, "deploy.yaml") == apply(DEPLOYMENT, every_fix)
    # With min-severity notice a notice with a fix could go inline; these have none (second pass).
    assert len(plan_review(findings, changes, heads, min_severity=Severity.NOTICE).comments) == 1
    # Errors only: the warnings' container fixes leave the comment, the pod's fix stays.
    strict = plan_review(findings, changes, heads, min_severity=Severity.ERROR)
    (error_comment,) = strict.comments
    assert {fp.split(":")[0] for fp in error_comment.fingerprints} == {"UR201", "UR205"}
    assert "UR209" not in error_comment.body and "runAsNonRoot: true" in (suggestion_of(error_comment.body) or "")


def test_an_object_whose_fixes_span_two_hunks_keeps_one_comment_per_fix() -> None:
    head = DEPLOYMENT.replace("web:1.4.2", "web:1.4.3").replace("fluent-bit:3.1", "fluent-bit:3.2")
    findings, changes, heads = pr({"deploy.yaml": (DEPLOYMENT, head)}, context=0)
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    assert len(plan.comments) > 1
    assert all(c.body.count("```suggestion") <= 1 for c in plan.comments)


def test_fixes_over_overlapping_lines_share_one_suggestion_so_all_can_be_committed() -> None:
    # A container running as UID 0: its fix edits the pod's securityContext (line 6) and the
    # container's (11-12); the seccomp fixes edit line 6 alone, c0's capability fix line 8.
    # Separate suggestions would overlap, and GitHub cannot commit overlapping suggestions.
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "  - name: c0\n    image: example/app:1\n  - name: c1\n    image: example/app:1\n"
        "    securityContext:\n      runAsUser: 0\n"
    )
    findings, changes, heads = pr({"pod.yaml": ("", pod)})
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    suggested = sorted((c.start_line or c.line, c.line) for c in plan.comments if suggestion_of(c.body) is not None)
    assert suggested == [(6, 12)]
    fixed = apply_suggestions(pod, plan, "pod.yaml")
    assert [f.rule for f in errors("pod.yaml", fixed)] == []
    with_fix = {fingerprint(f, pod) for f in findings if f.fix is not None}
    (comment,) = [c for c in plan.comments if suggestion_of(c.body) is not None]
    assert set(comment.fingerprints) == with_fix


def test_multi_line_suggestion_for_a_kubernetes_security_context() -> None:
    head = DEPLOYMENT.replace("8080", "8081")  # the web container's fix is in the hunk, the pod's is not
    findings, changes, heads = pr({"deploy.yaml": (DEPLOYMENT, head)}, context=2)
    plan = plan_review(findings, changes, heads)
    container = [c for c in plan.comments if c.start_line == 23]
    assert len(container) == 1 and container[0].line == 24
    assert suggestion_of(container[0].body) == (
        "          securityContext:\n            capabilities:\n              drop:\n"
        "                - ALL\n            allowPrivilegeEscalation: false\n"
    )
    pod_findings, pod_changes, pod_heads = pr({"pod.yaml": ("", POD)})
    pod_plan = plan_review(pod_findings, pod_changes, pod_heads)
    assert_anchors_valid(pod_plan, pod_changes)
    (pod_level,) = [c for c in pod_plan.comments if c.start_line == 6]
    assert "runAsNonRoot: true" in (suggestion_of(pod_level.body) or "")
    assert errors("pod.yaml", apply_suggestions(POD, pod_plan, "pod.yaml")) == []


def test_applying_every_suggestion_fixes_every_error_in_a_multi_file_pr() -> None:
    base_deploy = DEPLOYMENT.replace("ghcr.io/example/web:1.4.2", "ghcr.io/example/web:1.4.1")
    files = {
        "Dockerfile": ("", DOCKERFILE),
        "deploy/web.yaml": ("", DEPLOYMENT),
        "deploy/pod.yml": ("", POD),
        "deploy/edited.yaml": (base_deploy, DEPLOYMENT),
    }
    findings, changes, heads = pr(files, context=10)
    plan = plan_review(findings, changes, heads, max_comments=100)
    assert_anchors_valid(plan, changes)
    for path, text in heads.items():
        assert errors(path, apply_suggestions(text, plan, path)) == [], path


def test_patch_none_removed_and_unlisted_files_never_get_inline_comments() -> None:
    findings = analyze("Dockerfile", DOCKERFILE) + analyze("pod.yaml", POD) + analyze("k.yaml", DEPLOYMENT)
    changes = [
        FileChange("Dockerfile", "modified", None),  # too large: GitHub omits the patch
        FileChange("pod.yaml", "removed", make_patch("", POD)),
    ]  # k.yaml is not in the PR's files at all
    heads = {"Dockerfile": DOCKERFILE, "pod.yaml": POD, "k.yaml": DEPLOYMENT}
    plan = plan_review(findings, changes, heads)
    assert plan.comments == ()
    assert fingerprints_in(plan.review_body) == {fingerprint(f, heads[f.path]) for f in reviewed(findings)}
    assert len(plan.annotations) == len(findings)
    assert "```" not in plan.review_body


def test_suggestion_containing_backticks_gets_a_longer_fence() -> None:
    head = 'FROM debian:12\nRUN echo hi\nCMD ["sh", "-c", "echo ```code``` and `x`"]\n'
    findings, changes, heads = pr({"Dockerfile": ("", head)})
    plan = plan_review(findings, changes, heads)
    (comment,) = plan.comments
    assert "\n````suggestion\n" in comment.body and "\n````\n" in comment.body
    assert "USER 10001:10001" in (suggestion_of(comment.body) or "")
    assert errors("Dockerfile", apply_suggestions(head, plan, "Dockerfile")) == []
    five = 'FROM debian:12\nCMD ["echo", "`````"]\n'
    findings, changes, heads = pr({"Dockerfile": ("", five)})
    (comment,) = plan_review(findings, changes, heads).comments
    assert "\n``````suggestion\n" in comment.body


def test_multi_edit_fix_suggests_the_whole_range_only_inside_one_hunk() -> None:
    text = "a\nb\nc\nd\ne\n"
    fix = Fix("two edits", (LineEdit(4, 4, "D\n"), LineEdit(2, 2, "B\nB2\n")))
    finding = Finding("UR101", Severity.ERROR, "Dockerfile", 2, 2, "made up", fix, "stage 1")
    whole = [FileChange("Dockerfile", "added", make_patch("", text))]
    (comment,) = plan_review([finding], whole, {"Dockerfile": text}).comments
    assert (comment.start_line, comment.line) == (2, 4)
    assert suggestion_of(comment.body) == "B\nB2\nc\nD\n"
    # Lines 2 and 4 changed, line 3 is not part of any hunk: no suggestion can cover 2..4.
    old = "a\nx\nc\ny\ne\n"
    split = [FileChange("Dockerfile", "modified", make_patch(old, text, context=0))]
    plan = plan_review([finding], split, {"Dockerfile": text})
    assert_anchors_valid(plan, split)
    (comment,) = plan.comments
    assert (comment.start_line, comment.line) == (None, 2)
    assert "suggestion" not in comment.body and "```diff" in comment.body


def test_deleting_suggestion_is_an_empty_block() -> None:
    text = "FROM debian:12\nUSER root\nUSER 10001\n"
    finding = Finding("UR101", Severity.ERROR, "Dockerfile", 2, 2, "made up", Fix("drop it", (LineEdit(2, 2, ""),)))
    changes = [FileChange("Dockerfile", "added", make_patch("", text))]
    (comment,) = plan_review([finding], changes, {"Dockerfile": text}).comments
    assert "```suggestion\n```" in comment.body
    assert suggestion_of(comment.body) == ""


def many_containers(count: int) -> str:
    containers = "".join(f"    - name: c{n}\n      image: img{n}:1\n" for n in range(count))
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n{containers}"


def test_inline_comments_are_capped_and_the_rest_go_to_the_body() -> None:
    pods = {f"pods/p{n:02d}.yaml": ("", many_containers(1)) for n in range(40)}  # one comment a pod
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE), **pods})
    full = plan_review(findings, changes, heads, max_comments=1000)
    assert len(full.comments) > 30
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    assert len(plan.comments) == 30
    order = [
        (-max(Severity(s).rank for s in severities(c.body)), c.path, c.start_line or c.line) for c in plan.comments
    ]
    assert order == sorted(order)
    assert plan.comments[0].path == "Dockerfile" or "(error)" in plan.comments[0].body
    overflow = full.comments[30:]
    assert "### Beyond the first 30 inline comments" in plan.review_body
    for comment in overflow:
        assert set(comment.fingerprints) <= fingerprints_in(plan.review_body)
    posted = set().union(*(set(c.fingerprints) for c in plan.comments)) | fingerprints_in(plan.review_body)
    assert posted == {fingerprint(f, heads[f.path]) for f in reviewed(findings)}
    assert len(plan_review(findings, changes, heads, max_comments=5).comments) == 5


def severities(body: str) -> list[str]:
    return re.findall(r"\*\* \((error|warning|notice)\)", body)


def test_already_commented_findings_are_not_repeated() -> None:
    findings, changes, heads = pr({"deploy.yaml": ("", DEPLOYMENT)})
    first = plan_review(findings, changes, heads)
    seen = frozenset().union(*(fingerprints_in(c.body) for c in first.comments))
    again = plan_review(findings, changes, heads, seen, request_changes=True)
    assert again.comments == () and again.review_body == ""
    assert again.review_event == "COMMENT"
    assert again.conclusion == "failure" and len(again.annotations) == len(findings)
    # Next push: a comment added above (lines move) and a third container appended.
    head = "# moved\n" + DEPLOYMENT + "        - name: extra\n          image: busybox:1\n"
    pushed, pushed_changes, pushed_heads = pr({"deploy.yaml": (DEPLOYMENT, head)})
    plan = plan_review(pushed, pushed_changes, pushed_heads, seen)
    assert_anchors_valid(plan, pushed_changes)
    new_fps = {fingerprint(f, head) for f in reviewed(pushed)} - seen
    assert new_fps and all("'extra'" in f.message for f in pushed if fingerprint(f, head) in new_fps)
    posted = set().union(*(set(c.fingerprints) for c in plan.comments)) | fingerprints_in(plan.review_body)
    assert posted == new_fps
    assert plan.fingerprints == {fingerprint(f, head) for f in pushed}


def test_skipped_files_get_an_annotation_and_a_summary_line_only() -> None:
    template = "apiVersion: v1\nkind: Pod\nmetadata: {name: p\nspec: {{ .Values }}\n  containers: []\n"
    findings, changes, heads = pr({"chart/pod.yaml": ("", template)})
    (skipped,) = findings
    assert skipped.rule == "UR001"
    plan = plan_review(findings, changes, heads, files_checked=1)
    assert plan.comments == () and plan.review_body == ""
    (annotation,) = plan.annotations
    assert annotation.annotation_level == "notice" and annotation.title.startswith("UR001 ")
    assert "### Skipped files (UR001)" in plan.summary and skipped.message in plan.summary
    assert plan.conclusion == "success" and plan.title == "1 notice in 1 file"


def test_annotations_cover_every_finding_with_levels_titles_and_diffs() -> None:
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE)})
    seen = frozenset(fingerprint(f, DOCKERFILE) for f in findings)
    plan = plan_review(findings, changes, heads, seen)
    assert len(plan.annotations) == len(findings)
    ur102 = next(a for a in plan.annotations if a.title.startswith("UR102"))
    assert ur102.title == "UR102 " + by_id()["UR102"].title
    assert ur102.annotation_level == "failure" and (ur102.start_line, ur102.end_line) == (12, 12)
    assert ur102.message.endswith("\nFix: Run as UID 10001:10001 (user created with the image's own tools)")
    assert ur102.raw_details is not None and ur102.raw_details.startswith("@@ -12,1 +12,4 @@\n-CMD [")
    ur104 = next(a for a in plan.annotations if a.title.startswith("UR104"))
    assert ur104.annotation_level == "warning" and ur104.raw_details is None
    assert (ur104.start_line, ur104.end_line) == (9, 10)
    odd = dataclasses.replace(findings[0], line=0, end_line=0)
    (clamped,) = plan_review([odd], changes, heads).annotations
    assert (clamped.start_line, clamped.end_line) == (1, 1)


def test_titles_conclusions_and_review_event() -> None:
    assert plan_review([], [], {}).title == "No Dockerfiles or manifests changed"
    clean = plan_review([], [FileChange("Dockerfile", "added", "@@ -0,0 +1 @@\n+FROM x\n")], {}, files_checked=2)
    assert (clean.title, clean.conclusion, clean.review_body, clean.comments) == (
        "No root containers found",
        "success",
        "",
        (),
    )
    assert "Checked 2 files." in clean.summary
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE), "pod.yaml": ("", POD)})
    plan = plan_review(findings, changes, heads, request_changes=True)
    assert plan.review_event == "REQUEST_CHANGES"
    assert plan_review(findings, changes, heads).review_event == "COMMENT"
    warnings_only = [f for f in findings if f.severity is not Severity.ERROR]
    assert plan_review(warnings_only, changes, heads, request_changes=True).review_event == "COMMENT"
    assert plan.title == "2 errors, 4 warnings, 1 notice in 2 files"


def test_summary_counts_rules_and_files_and_explains_suppression() -> None:
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE), "k.yaml": ("", DEPLOYMENT)})
    summary = plan_review(findings, changes, heads, files_checked=2, docs_url="https://docs.example/{id}").summary
    assert "| [UR201](https://docs.example/UR201) | The container may run as root | error | 2 |" in summary
    assert "| `Dockerfile` | 1 | 1 | 0 |" in summary
    assert "# unroot: ignore=ID reason" in summary and 'unroot.dev/ignore: "ID"' in summary


def test_summary_and_review_body_stay_within_githubs_limits_with_5000_findings() -> None:
    base = analyze("Dockerfile", DOCKERFILE)  # two findings per copy
    findings = [dataclasses.replace(f, path=f"services/service-{n:04d}/Dockerfile") for n in range(2500) for f in base]
    findings += [
        dataclasses.replace(base[0], rule="UR001", severity=Severity.NOTICE, path=f"bad/{n}.yaml", fix=None)
        for n in range(300)
    ]
    heads = {f.path: DOCKERFILE for f in findings}
    plan = plan_review(findings, [], heads, files_checked=2800)
    assert len(findings) == 5300
    assert len(plan.summary) <= 65535
    assert re.search(r"\.\.\. and \d+ more files", plan.summary)
    assert "### Suppressing a finding" in plan.summary
    assert len(plan.review_body) <= 65536
    match = re.search(r"\.\.\. and (\d+) more", plan.review_body)
    assert match is not None
    shown = plan.review_body.count("<!-- unroot:")
    # Every reviewed finding (each copy's UR102; its UR104 has no fix) is its own group (different paths).
    assert shown + int(match[1]) == 2500
    assert len(plan.annotations) == 5300
    # All inline (whole files added): the cap keeps 30, the body lists the rest within bounds.
    changes = [
        FileChange(path, "added", make_patch("", DOCKERFILE)) for path in sorted({f.path for f in findings[:5000]})
    ]
    capped = plan_review(findings[:5000], changes, heads)
    assert len(capped.comments) == 30 and len(capped.review_body) <= 65536
    assert "### Beyond the first 30 inline comments" in capped.review_body


def test_comments_are_ordered_by_severity_then_path_then_comment_line() -> None:
    text = "".join(f"line {n}\n" for n in range(1, 41))
    late_fix = Finding(
        "UR101", Severity.ERROR, "b", 10, 10, "fix far below", Fix("x", (LineEdit(30, 30, "X\n"),)), "s1"
    )
    early = Finding("UR101", Severity.ERROR, "b", 20, 20, "fix here", Fix("y", (LineEdit(20, 20, "Y\n"),)), "s2")
    warning = Finding("UR103", Severity.WARNING, "a", 1, 1, "warning", Fix("w", (LineEdit(1, 1, "W\n"),)), "s3")
    other_file = Finding("UR101", Severity.ERROR, "a", 35, 35, "other file", None, "s4")
    changes = [FileChange(path, "added", make_patch("", text)) for path in ("a", "b")]
    plan = plan_review([warning, late_fix, early, other_file], changes, {"a": text, "b": text})
    assert_anchors_valid(plan, changes)
    assert [(c.path, c.line) for c in plan.comments] == [("a", 35), ("b", 20), ("b", 30), ("a", 1)]
    capped = plan_review([warning, late_fix, early, other_file], changes, {"a": text, "b": text}, max_comments=2)
    assert [(c.path, c.line) for c in capped.comments] == [("a", 35), ("b", 20)]
    assert "- `b` line 10: UR101" in capped.review_body and "- `a` line 1: UR103" in capped.review_body


def test_crlf_file_gets_lf_suggestions_and_valid_anchors() -> None:
    crlf = DOCKERFILE.replace("\n", "\r\n")
    findings, changes, heads = pr({"Dockerfile": ("", crlf)})
    assert changes[0].patch is not None and "\r\n" in changes[0].patch
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    (ur102,) = [c for c in plan.comments if c.fingerprints[0].startswith("UR102:")]
    assert ur102.line == 12 and "\r" not in ur102.body
    assert ur102.fingerprints == tuple(
        fingerprint(f, DOCKERFILE) for f in analyze("Dockerfile", DOCKERFILE) if f.rule == "UR102"
    )


def test_the_repositorys_review_settings_reach_the_plan_and_max_comments_given_wins() -> None:
    findings, changes, heads = pr(
        {"Dockerfile": ("", DOCKERFILE), "deploy.yaml": ("", DEPLOYMENT), "pod.yaml": ("", POD)}
    )
    settings = ReviewSettings(min_severity=Severity.ERROR, max_inline=1, event="REQUEST_CHANGES")
    meta = Meta(RepoConfig(review=settings), None, frozenset(), ())
    plan = asyncio.run(_plan(findings, changes, heads, meta, None, DOCS_URL, "https://github.example/o/r/runs/7"))
    assert len(plan.comments) == 1 and plan.review_event == "REQUEST_CHANGES"
    assert "1 inline comment, 2 over the 1-comment limit" in plan.review_body
    assert "[the check run's annotations](https://github.example/o/r/runs/7)" in plan.review_body
    given = asyncio.run(_plan(findings, changes, heads, meta, 5, DOCS_URL))
    assert len(given.comments) == 3  # one per object: the Dockerfile, the Deployment, the Pod
    assert all(severities(c.body) and set(severities(c.body)) == {"error"} for c in given.comments)
    default = asyncio.run(_plan(findings, changes, heads, Meta(RepoConfig(), None, frozenset(), ()), None, DOCS_URL))
    assert default.review_event == "COMMENT" and "warning" in set().union(
        *(severities(c.body) for c in default.comments)
    )


def test_two_objects_of_one_name_around_a_third_keep_suggestions_that_can_all_be_committed() -> None:
    def deployment(name: str, namespace: str) -> str:
        return (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
            "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1\n"
        )

    text = "---\n".join([deployment("web", "a"), deployment("api", "a"), deployment("web", "b")])
    findings, changes, heads = pr({"deploy.yaml": ("", text)})
    plan = plan_review(findings, changes, heads)
    assert_anchors_valid(plan, changes)
    spans = sorted((c.start_line or c.line, c.line) for c in plan.comments if suggestion_of(c.body) is not None)
    assert all(end < start for (_, end), (start, _) in zip(spans, spans[1:])), spans
    # Committed together they fix what the fixes fix: the api Deployment's one suggestion among them.
    assert len(spans) >= 3
    every_fix = [e for f in findings if f.fix is not None for e in f.fix.edits]
    assert apply_suggestions(text, plan, "deploy.yaml") == apply(text, every_fix)


def test_summary_leads_with_the_one_click_fixes_and_what_needs_a_hand_made_fix() -> None:
    findings, changes, heads = pr({"Dockerfile": ("", DOCKERFILE), "deploy.yaml": ("", DEPLOYMENT)})
    summary = plan_review(findings, changes, heads, files_checked=2).summary
    lead = summary.split("\n\n")[1].split("\n")
    assert lead == [
        "**2 one-click fixes** in the review for `Dockerfile`, `deploy.yaml`; or run `unroot fix Dockerfile deploy.yaml`.",
        "**1 finding needs a hand-made fix** (see the annotations): UR104 (1).",
    ]
    assert summary.index("**2 one-click fixes**") < summary.index("| Rule |")
    # Nothing in the review (all posted before): the command still says how to fix them.
    seen = frozenset(fingerprint(f, heads[f.path]) for f in findings)
    again = plan_review(findings, changes, heads, seen, files_checked=2).summary
    assert "**2 files with fixes:** run `unroot fix Dockerfile deploy.yaml`." in again
    # More than five files: the command names none of them, the line names five.
    many = {f"s{n}/Dockerfile": ("", DOCKERFILE) for n in range(7)}
    found, listed, texts = pr(many)
    crowded = plan_review(found, [], texts).summary
    assert "**7 files with fixes:** run `unroot fix` on the 7 files (`s0/Dockerfile`" in crowded
    assert "and 2 more)." in crowded
