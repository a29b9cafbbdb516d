"""Hostile input: diffs, pull requests and files built to break the parser, the planner or the analysers.

Property tests run derandomized (same examples every run). Resource bombs that could take the
test process down (a segfault, gigabytes of memory, hours of CPU) run in child processes with a
stack, memory and CPU-time limit; they start together and are collected by the tests at the end.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.diff import FileChange, FileStatus, Hunk, parse_patch
from bot.fingerprint import fingerprint, fingerprints_in
from bot.limits import MAX_BODY, MAX_OUTPUT
from bot.plan import plan_review
from rules.analyze import analyze, analyze_bytes
from rules.fixes import apply, split_lines
from rules.model import Finding, LineEdit, Options, Severity

ROOT = Path(__file__).resolve().parent.parent


def fixed_settings(examples: int) -> settings:
    """Deterministic: the same examples on every run, no example database."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def in_range(findings: list[Finding], text: str) -> None:
    count = max(1, len(split_lines(text)))
    for finding in findings:
        assert 1 <= finding.line <= finding.end_line <= count, finding
        for edit in finding.fix.edits if finding.fix else ():
            assert 1 <= edit.start_line <= edit.end_line <= count, edit


def all_edits(findings: list[Finding]) -> list[LineEdit]:
    return [edit for f in findings if f.fix is not None for edit in f.fix.edits]


def serious(path: str, text: str) -> list[Finding]:
    return [f for f in analyze(path, text) if f.severity in (Severity.ERROR, Severity.WARNING)]


def single_notice(findings: list[Finding], needle: str) -> None:
    assert len(findings) == 1, [(f.rule, f.message) for f in findings]
    (notice,) = findings
    assert (notice.rule, notice.severity, notice.line, notice.end_line, notice.fix) == (
        "UR001",
        Severity.NOTICE,
        1,
        1,
        None,
    ), notice
    assert needle in notice.message, notice.message


POD_HEAD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n"


# ================================================================ parse_patch


def parse_ok(patch: str) -> list[Hunk]:
    hunks = parse_patch(patch)
    for hunk in hunks:
        assert all(isinstance(n, int) for n in hunk.right_lines)
        assert all(max(hunk.new_start, 1) <= n <= hunk.new_end for n in hunk.right_lines), hunk
    return hunks


NUMBERS = st.one_of(st.integers(0, 40), st.sampled_from([10**6, 2**31, 2**63, 10**30]))
HEADERS = st.one_of(
    st.builds(
        lambda a, b, c, d, tail: f"@@ -{a}{b} +{c}{d} @@{tail}",
        NUMBERS,
        st.one_of(st.just(""), NUMBERS.map(lambda n: f",{n}")),
        NUMBERS,
        st.one_of(st.just(""), NUMBERS.map(lambda n: f",{n}")),
        st.sampled_from(["", " FROM x", " def f():", "@@", " @@ -1 +1 @@"]),
    ),
    st.sampled_from(["@@ -a,b +c,d @@", "@@@ -1 +1 @@@", "@@ -1 +1", "@@ -1, +1, @@", "@@ +1 -1 @@", "@@"]),
)
CONTENT = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=12)
DIFF_LINES = st.one_of(
    HEADERS,
    st.tuples(st.sampled_from("+- "), CONTENT).map("".join),
    st.sampled_from(
        [
            "",
            "\\ No newline at end of file",
            "diff --git a/x b/x",
            "index 0000000..1111111 100644",
            "--- a/x",
            "+++ b/x",
            "Binary files a/x and b/x differ",
            "\r",
            "\t",
            "\x00",
            "\ufeff",
        ]
    ),
    CONTENT,
)


@fixed_settings(300)
@given(st.lists(st.tuples(DIFF_LINES, st.sampled_from(["\n", "\r\n", "\r"])), max_size=40), st.booleans())
def test_parse_patch_never_raises_and_keeps_lines_in_their_hunk(lines: list[tuple[str, str]], final: bool) -> None:
    patch = "".join(line + end for line, end in lines)
    parse_ok(patch if final else patch.rstrip("\r\n"))


@fixed_settings(200)
@given(st.text(max_size=300))
def test_parse_patch_on_arbitrary_text(text: str) -> None:
    parse_ok(text)
    parse_ok("@@ -1,5 +1,5 @@\n" + text)


@st.composite
def hunk_bodies(draw: st.DrawFn) -> tuple[list[str], int, int]:
    """A well-formed hunk body: lines tagged '+', '-' or ' ' with the counts its header must announce."""
    tags = draw(st.lists(st.sampled_from("+- "), max_size=12))
    body = []
    for tag in tags:
        body.append(tag + draw(st.sampled_from(["a", "b", "", " x", "@@ -1 +1 @@", "+", "-", "\\"])))
        if draw(st.integers(0, 9)) == 0:
            body.append("\\ No newline at end of file")
    return body, sum(t != "+" for t in tags), sum(t != "-" for t in tags)


@fixed_settings(100)
@given(
    st.lists(
        st.tuples(
            hunk_bodies(),
            st.integers(1, 30),
            st.lists(
                st.sampled_from(
                    ["garbage", "diff --git a/x b/x", "index 1..2", "x@@ -1 +1 @@", "Binary files differ", "#"]
                ),
                max_size=2,
            ),
        )
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_parse_patch_reads_well_formed_hunks_between_garbage(
    hunks: list[tuple[tuple[list[str], int, int], int, list[str]]], newline: str, strip_context_space: bool
) -> None:
    lines: list[str] = []
    expected: list[Hunk] = []
    start = 1
    for (body, old_count, new_count), gap, junk in hunks:
        start += gap
        lines.append(f"@@ -{start},{old_count} +{start},{new_count} @@ context")
        for line in body:
            # Some tools strip the space of an empty context line; the parser must still count it.
            lines.append("" if strip_context_space and line == " " else line)
        lines.extend(junk)
        expected.append(Hunk(start, start + new_count - 1, frozenset(range(start, start + new_count))))
        start += new_count
    patch = "".join(line + newline for line in lines)
    assert parse_ok(patch) == expected


@fixed_settings(120)
@given(
    st.lists(
        st.tuples(hunk_bodies(), st.integers(-3, 3), st.integers(-3, 3), st.integers(0, 5)), min_size=1, max_size=4
    )
)
def test_parse_patch_with_headers_that_lie_about_their_counts(
    hunks: list[tuple[tuple[list[str], int, int], int, int, int]],
) -> None:
    """Counts too small or too large for the lines that follow: one hunk per header, lines within its header."""
    lines: list[str] = []
    headers: list[tuple[int, int]] = []
    start = 1
    for (body, old_count, new_count), old_lie, new_lie, gap in hunks:
        start += gap
        announced = max(new_count + new_lie, 0)
        lines.append(f"@@ -{start},{max(old_count + old_lie, 0)} +{start},{announced} @@")
        lines.extend(body)
        headers.append((start, start + announced - 1))
        start += max(new_count, announced)
    parsed = parse_ok("\n".join(lines) + "\n")
    assert [(h.new_start, h.new_end) for h in parsed] == headers


def unified(old: list[str], new: list[str], context: int) -> str:
    """A GitHub-style patch: difflib's hunks without ---/+++ headers, with "\\ No newline" markers."""
    out = []
    for line in list(difflib.unified_diff(old, new, n=context))[2:]:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


LINE_TEXT = st.sampled_from(["a", "b", "c", "", " ", "\t", "@@ -1 +1 @@", "+x", "-y", "\\ no", "FROM x", "é"])


@fixed_settings(400)
@given(
    st.lists(LINE_TEXT, max_size=25),
    st.lists(LINE_TEXT, max_size=25),
    st.integers(0, 4),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_parse_patch_right_lines_are_exactly_the_new_files_lines_in_the_hunks(
    old_text: list[str],
    new_text: list[str],
    context: int,
    newline: str,
    old_final: bool,
    new_final: bool,
    trim_patch_end: bool,
) -> None:
    old = [line + newline for line in old_text]
    new = [line + newline for line in new_text]
    if old and not old_final:
        old[-1] = old[-1][: -len(newline)]
    if new and not new_final:
        new[-1] = new[-1][: -len(newline)]
    patch = unified(old, new, context)
    if trim_patch_end:
        patch = patch.removesuffix("\n")  # GitHub's patches often lack the final newline
    groups = list(difflib.SequenceMatcher(None, old, new).get_grouped_opcodes(context))
    hunks = parse_ok(patch)
    assert len(hunks) == len(groups)
    for hunk, group in zip(hunks, groups):
        j1, j2 = group[0][3], group[-1][4]  # the new file's lines [j1, j2) are all '+' or ' ' lines
        assert hunk.right_lines == frozenset(range(j1 + 1, j2 + 1))
        assert (hunk.new_start, hunk.new_end) == ((j1 + 1, j2) if j2 > j1 else (j1, j1 - 1))
    right = set().union(*(h.right_lines for h in hunks))
    expected = {j + 1 for group in groups for tag, _, _, j1, j2 in group if tag != "delete" for j in range(j1, j2)}
    assert right == expected


# ================================================================ plan_review

DOCKER_POOL = st.sampled_from(
    [
        "FROM debian:12",
        "FROM alpine AS build",
        "FROM build",
        "FROM scratch",
        "FROM $BASE",
        "ARG BASE=ubuntu",
        "ARG U=root",
        "USER root",
        "USER 0:0",
        "USER ${U}",
        "USER app",
        "user 1000",
        "USER 10001",
        "RUN sudo apt-get update",
        "RUN apt-get install -y sudo \\",
        "    && chmod u+s /bin/x",
        "RUN <<EOF",
        "RUN set -e \\",
        "    sudo make install \\",
        "EOF",
        "COPY . /app",
        "WORKDIR /srv",
        "EXPOSE 80",
        'CMD ["x"]',
        'ENTRYPOINT ["/app"]',
        "# unroot: ignore=UR101 reason",
        "",
        "ENV A=b",
        "CMD echo ```fence``` `x`",
    ]
)
SC = {
    "runAsNonRoot": ["true", "false"],
    "runAsUser": ["0", "1000"],
    "allowPrivilegeEscalation": ["true", "false"],
    "privileged": ["true", "false"],
    "capabilities": ["{add: [SYS_ADMIN]}", "{drop: [all]}"],
    "seccompProfile": ["{type: Unconfined}", "{type: RuntimeDefault}"],
}


@st.composite
def security_context(draw: st.DrawFn, indent: str, pod: bool) -> list[str]:
    keys = [k for k in SC if not pod or k in ("runAsNonRoot", "runAsUser", "seccompProfile")]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    items = [(k, draw(st.sampled_from(SC[k]))) for k in chosen]
    if draw(st.booleans()):
        return [" {" + ", ".join(f"{k}: {v}" for k, v in items) + "}"]
    return [""] + [f"{indent}{k}: {v}" for k, v in items] if items else [" {}"]


def _attach(lines: list[str], key_line: str, value: list[str]) -> None:
    """`key:` followed by a flow value on the same line, or by block lines."""
    lines.append(key_line + value[0])
    lines.extend(value[1:])


@st.composite
def workloads(draw: st.DrawFn) -> list[str]:
    """A Pod or a Deployment (pod spec two levels deeper), as lines."""
    deployment = draw(st.booleans())
    if deployment:
        lines = [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            "  name: d",
            "spec:",
            "  template:",
            "    spec:",
        ]
        pad = "    "
    else:
        lines = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: p", "spec:"]
        pad = ""
    if draw(st.booleans()):
        _attach(lines, f"{pad}  securityContext:", draw(security_context(pad + "    ", True)))
    lines.append(f"{pad}  containers:")
    for index in range(draw(st.integers(1, 3))):
        lines += [f"{pad}  - name: c{index}", f"{pad}    image: example/app:1"]
        if draw(st.booleans()):
            _attach(lines, f"{pad}    securityContext:", draw(security_context(pad + "      ", False)))
    return lines


YAML_NOISE = st.sampled_from(["# comment", "", "---", "  hostPID: true", "    - ALL", "{{ .Values.x }}", "  - name: z"])


@st.composite
def edit_lines(draw: st.DrawFn, lines: list[str], pool: st.SearchStrategy[str]) -> list[str]:
    new = list(lines)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        where = draw(st.integers(0, max(len(new), 1)))
        if op == "insert" or not new:
            new.insert(where, draw(pool))
        elif op == "delete":
            del new[min(where, len(new) - 1)]
        else:
            new[min(where, len(new) - 1)] = draw(pool)
    return new


PATHS = ["Dockerfile", "svc/api.dockerfile", "pod.yaml", "k8s/deploy.yml"]


@st.composite
def pull_requests(draw: st.DrawFn) -> tuple[dict[str, str], list[FileChange]]:
    heads: dict[str, str] = {}
    changes: list[FileChange] = []
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True)):
        if path.endswith(("Dockerfile", ".dockerfile")):
            old = draw(st.lists(DOCKER_POOL, max_size=15))
            new = (
                draw(edit_lines(old, DOCKER_POOL)) if draw(st.booleans()) else draw(st.lists(DOCKER_POOL, max_size=15))
            )
        else:
            old = draw(workloads())
            new = draw(edit_lines(old, YAML_NOISE)) if draw(st.booleans()) else draw(workloads())
        if draw(st.booleans()):
            old = []  # an added file: every line is in the diff
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        old_text = "".join(line + newline for line in old)
        new_text = "".join(line + newline for line in new)
        if new_text and draw(st.booleans()):
            new_text = new_text[: -len(newline)]
        patch: str | None = unified(old_text.splitlines(True), new_text.splitlines(True), draw(st.integers(0, 8)))
        status: FileStatus = "added" if not old else "modified"
        odd = draw(st.integers(0, 9))
        if odd == 0:
            patch = None  # GitHub omits patches of large diffs
        elif odd == 1:
            status = "removed"
        heads[path] = new_text
        changes.append(FileChange(path, status, patch))
    return heads, changes


SUGGESTION = re.compile(r"^(`{3,})suggestion$")


def suggestion_of(body: str) -> str | None:
    lines = body.split("\n")
    for n, line in enumerate(lines):
        opened = SUGGESTION.match(line)
        if opened:
            end = lines.index(opened[1], n + 1)
            return "".join(part + "\n" for part in lines[n + 1 : end])
    return None


@fixed_settings(250)
@given(pull_requests(), st.one_of(st.sampled_from([-1, 0, 1]), st.integers(2, 40)), st.booleans(), st.data())
def test_plan_review_anchors_limits_and_suggestions_hold_for_random_pull_requests(
    pr: tuple[dict[str, str], list[FileChange]], max_comments: int, request_changes: bool, data: st.DataObject
) -> None:
    heads, changes = pr
    findings = [f for path, text in heads.items() for f in analyze(path, text)]
    fps = sorted({fingerprint(f, heads[f.path]) for f in findings})
    seen = frozenset(data.draw(st.sets(st.sampled_from(fps))) if fps else ())
    plan = plan_review(
        findings,
        changes,
        heads,
        seen,
        max_comments=max_comments,
        request_changes=request_changes,
        files_checked=len(heads),
    )

    assert len(plan.comments) <= max(max_comments, 0)
    assert len(plan.summary) <= MAX_OUTPUT and len(plan.review_body) <= MAX_BODY
    by_path = {c.path: c for c in changes}
    suggested: dict[str, list[tuple[int, int, str]]] = {}
    for comment in plan.comments:
        change = by_path[comment.path]
        assert change.patch is not None and change.status != "removed"
        assert len(comment.body) <= MAX_BODY
        start = comment.line if comment.start_line is None else comment.start_line
        if comment.start_line is not None:
            assert comment.start_line < comment.line
        assert any(
            all(n in h.right_lines for n in range(start, comment.line + 1)) for h in parse_patch(change.patch)
        ), (comment.path, start, comment.line, change.patch)
        assert 1 <= start and comment.line <= len(split_lines(heads[comment.path]))
        assert not set(comment.fingerprints) & seen
        text = suggestion_of(comment.body)
        if text is not None:
            suggested.setdefault(comment.path, []).append((start, comment.line, text))

    # Nothing new is lost: every unseen error, and warning with a fix, is in a comment or in the
    # review body (notices and findings without a fix are in the annotations only).
    posted = set().union(*(set(c.fingerprints) for c in plan.comments), fingerprints_in(plan.review_body))
    reviewed = [
        f
        for f in findings
        if f.rule != "UR001"
        and (f.severity is Severity.ERROR or (f.severity is Severity.WARNING and f.fix is not None and f.fix.edits))
    ]
    wanted = {fingerprint(f, heads[f.path]) for f in reviewed} - seen
    assert posted == wanted
    # And a finding on a line of the diff is commented inline unless the comment limit was reached.
    if "-comment limit" not in plan.review_body:
        inline = set().union(*(set(c.fingerprints) for c in plan.comments))
        for finding in reviewed:
            listed = by_path.get(finding.path)
            fp = fingerprint(finding, heads[finding.path])
            if fp in seen or listed is None or listed.patch is None or listed.status == "removed":
                continue
            if any(max(finding.line, 1) in h.right_lines for h in parse_patch(listed.patch)):
                assert fp in inline, (finding, listed.patch)

    # "Commit suggestions" in one batch: GitHub replaces lines start..line of the head with each block.
    for path, blocks in suggested.items():
        blocks.sort()
        for (_, end, _), (start, _, _) in itertools.pairwise(blocks):
            assert end < start, f"overlapping suggestions in {path}: {blocks}"
        lines = heads[path].splitlines(True)
        for start, end, text in reversed(blocks):
            lines[start - 1 : end] = text.splitlines(True)


@pytest.mark.parametrize(
    "folder",
    [
        "a`b``c|d",
        "x-->y",
        "<!-- x",
        "new\nline",
        "\u202eevil",
        "d" * 4000,
        "dé jà/ vu",
        "-->",
        "x:0123456789ab -->",  # once ended the marker early (paths are percent-encoded now)
        "a<!-- unroot:UR101:Dockerfile:0123456789ab -->",  # once planted a foreign fingerprint
    ],
)
def test_hostile_paths_keep_their_fingerprints_in_comments_and_bodies(folder: str) -> None:
    text = "FROM debian:12\nUSER root\n"
    path = f"{folder}/Dockerfile"
    findings = analyze(path, text)
    expected = {fingerprint(f, text) for f in findings}
    assert expected
    inline = plan_review(findings, [FileChange(path, "added", unified([], text.splitlines(True), 3))], {path: text})
    assert inline.comments
    for comment in inline.comments:
        assert fingerprints_in(comment.body) == set(comment.fingerprints)
    outside = plan_review(findings, [], {path: text})  # not in the diff: the review body lists them
    assert fingerprints_in(outside.review_body) == expected
    assert len(outside.summary) <= MAX_OUTPUT and len(outside.review_body) <= MAX_BODY


# ================================================================ the analysers on hostile files


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: lol}", 'a0: &a0 ["lol"' + ', "lol"' * (width - 1) + "]"]
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]")
    lines += ["spec:", "  containers:", "  - name: c", "    image: x", f"    args: *a{levels}"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_one_skip_notice() -> None:
    text = billion_laughs()
    wall, cpu = time.perf_counter(), time.process_time()
    findings = analyze("bomb.yaml", text)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tracemalloc.start()
    analyze("bomb.yaml", text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\nalias bomb (10 x 9 levels, ~10^10 nodes expanded, {len(text)} bytes): {wall * 1000:.2f} ms wall, "
        f"{cpu * 1000:.2f} ms CPU, tracemalloc peak {peak / 1024:.0f} KiB"
    )
    single_notice(findings, "alias")
    assert peak < 64 * 1024**2  # sanity ceiling: expanding would need tens of gigabytes
    single_notice(analyze_bytes("bomb.yaml", text.encode()), "alias")
    # The same bomb in a second document, and built from mappings with merge keys.
    single_notice(analyze("bomb.yaml", "apiVersion: v1\nkind: Pod\nspec: {containers: []}\n---\n" + text), "alias")
    merge = ["apiVersion: v1", "containers: []", "m0: &m0 {a: lol, b: lol}"]
    merge += [f"m{n}: &m{n} {{" + ", ".join(f"k{k}: *m{n - 1}" for k in range(10)) + "}" for n in range(1, 10)]
    single_notice(analyze("merge.yaml", "\n".join(merge) + "\n"), "alias")


def test_aliases_under_the_limit_are_analysed_normally() -> None:
    text = billion_laughs(levels=3)  # 10^4 nodes
    findings = analyze("small.yaml", text)
    assert findings and all(f.rule != "UR001" for f in findings)
    in_range(findings, text)


def deep(kind: str, depth: int) -> str:
    if kind == "flow sequences":
        return "x-deep: " + "[" * depth + "]" * depth + "\n"
    # Block mappings: every level one column deeper (about depth^2 / 2 bytes: 50 MB for 10,000 levels).
    return "x-deep:\n" + "".join(" " * n + "k:\n" for n in range(1, depth + 1)) + " " * (depth + 1) + "v\n"


@pytest.mark.parametrize("kind", ["flow sequences", "block mappings"])
def test_ten_thousand_nesting_levels_are_analysed_or_skipped(kind: str) -> None:
    nest = deep(kind, 10_000)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        in_pod = analyze("deep.yaml", POD_HEAD + nest)
    except RecursionError as error:  # pragma: no cover - the failure this test is about
        pytest.fail(f"RecursionError on 10,000 nested {kind}: {error}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"\n10,000 nested {kind} ({len(nest):,} bytes): {wall:.2f} s wall, {cpu:.2f} s CPU")
    if kind == "flow sequences":  # outside any pod: nothing to say, or a skip notice
        alone = analyze("deep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: containers}\n" + nest)
        assert alone == [] or (len(alone) == 1 and alone[0].rule == "UR001"), alone
    # Inside the pod's document: the pod's own findings, unchanged, or a skip notice.
    expected = analyze("deep.yaml", POD_HEAD)
    assert in_pod == expected or (len(in_pod) == 1 and in_pod[0].rule == "UR001"), in_pod


def test_block_nesting_as_deep_as_the_size_limit_allows() -> None:
    nest = deep("block mappings", 1_400)  # just under 1,000,000 bytes with the pod
    data = (POD_HEAD + nest).encode()
    assert len(data) < Options().max_bytes
    findings = analyze_bytes("deep.yaml", data)
    assert findings == analyze("deep.yaml", POD_HEAD) or (len(findings) == 1 and findings[0].rule == "UR001")


class NoReading(bytes):
    """Bytes that fail the test if anything but their length is looked at."""

    def decode(self, *args: object, **kwargs: object) -> str:
        raise AssertionError("the oversized file was decoded")

    def __getitem__(self, key: object) -> object:  # type: ignore[override]  # refuses every kind of key
        raise AssertionError("the oversized file was sliced")

    def __contains__(self, key: object) -> bool:
        raise AssertionError("the oversized file was searched")

    def __iter__(self) -> Iterator[int]:
        raise AssertionError("the oversized file was iterated")


@pytest.mark.parametrize("path", ["Dockerfile", "deploy.yaml"])
def test_fifty_megabytes_are_refused_by_size_alone(path: str) -> None:
    data = NoReading(b"\xff" * (50 * 1024 * 1024))  # not UTF-8 either: the size must be the reason given
    began = time.perf_counter()
    findings = analyze_bytes(path, data)
    print(f"\n50 MB {path}: refused in {(time.perf_counter() - began) * 1e6:.0f} µs")  # NoReading proves why
    single_notice(findings, "52,428,800 bytes is over the 1,000,000-byte limit")


def test_the_size_limit_is_inclusive() -> None:
    options = Options(max_bytes=100)
    at = b"FROM debian:12\n" + b"#" * 84 + b"\n"
    assert len(at) == 100
    assert [f.rule for f in analyze_bytes("Dockerfile", at, options)] == ["UR102"]
    single_notice(analyze_bytes("Dockerfile", at + b"\n", options), "101 bytes is over the 100-byte limit")


@pytest.mark.parametrize(
    ("path", "data", "offset"),
    [
        ("Dockerfile", b"FROM debian:12\nUSER \xff\n", 20),
        ("Dockerfile", b"FROM debian:12\nRUN echo \xc0\xaf\n", 24),  # overlong "/"
        ("Dockerfile", b"FROM debian:12\nRUN echo \xed\xa0\x80\n", 24),  # an encoded surrogate
        ("Dockerfile", b"FROM debian:12\nUSER root\n\xe2\x82", 25),  # cut inside a character
        ("pod.yaml", b"apiVersion: v1\nkind: Pod\ncontainers: caf\xe9\n", 40),  # Latin-1
    ],
)
def test_invalid_utf8_is_one_notice_naming_the_byte(path: str, data: bytes, offset: int) -> None:
    assert data[:offset].decode("utf-8") is not None
    single_notice(analyze_bytes(path, data), f"not valid UTF-8 (byte {offset})")


BOM = "\ufeff"
DOCKERFILE = 'FROM debian:12\nRUN apt-get update\nUSER root\nCMD ["app"]\n'
POD = POD_HEAD + "    securityContext:\n      allowPrivilegeEscalation: true\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    ("path", "text"), [("Dockerfile", DOCKERFILE), ("pod.yaml", POD), ("Dockerfile", "FROM debian:12\n")]
)
def test_a_bom_changes_no_position_and_no_fix(path: str, text: str, newline: str) -> None:
    text = text.replace("\n", newline)
    plain = analyze_bytes(path, text.encode())
    assert plain and any(f.fix for f in plain)
    with_bom = analyze_bytes(path, (BOM + text).encode())
    assert with_bom == plain
    assert analyze(path, BOM + text) == plain
    for finding in with_bom:
        assert BOM not in finding.message
        assert all(BOM not in edit.replacement for edit in finding.fix.edits) if finding.fix else True
    # As `unroot fix` does: apply to the text without the BOM, then put the BOM back.
    fixed = BOM + apply(text, all_edits(with_bom))
    assert fixed.startswith(BOM) and not fixed.startswith(BOM * 2)
    assert [f for f in analyze_bytes(path, fixed.encode()) if f.severity is not Severity.NOTICE] == []


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: x
        securityContext:
          capabilities: {drop: [NET_RAW]}
      - {name: b, image: y}
"""


@pytest.mark.parametrize(("path", "text"), [("pod.yaml", POD), ("deploy.yaml", DEPLOYMENT), ("Dockerfile", DOCKERFILE)])
def test_crlf_files_keep_crlf_after_every_fix(path: str, text: str) -> None:
    crlf = text.replace("\n", "\r\n")
    findings = analyze(path, crlf)
    assert findings == analyze(path, text)  # same lines, same edits
    fixed = apply(crlf, all_edits(findings))
    assert fixed != crlf
    assert re.search(r"(?<!\r)\n", fixed) is None and "\r\r" not in fixed, fixed
    assert fixed.replace("\r\n", "\n") == apply(text, all_edits(findings))
    assert serious(path, fixed) == []


def test_cr_only_manifest_keeps_cr_after_fixes() -> None:
    cr = POD.replace("\n", "\r")
    findings = analyze("pod.yaml", cr)
    assert findings == analyze("pod.yaml", POD)
    fixed = apply(cr, all_edits(findings))
    assert "\n" not in fixed, fixed


@pytest.mark.parametrize(
    ("tabbed", "spaced"),
    [
        ("FROM\tdebian:12\nUSER\troot\n", "FROM debian:12\nUSER root\n"),
        ('FROM\tdebian:12\nCMD\t["x"]\n', 'FROM debian:12\nCMD ["x"]\n'),
        (
            "FROM\tdebian:12 AS base\nUSER\t0:0\nFROM\tbase\nRUN\tsudo x\n",
            "FROM debian:12 AS base\nUSER 0:0\nFROM base\nRUN sudo x\n",
        ),
        ("\tFROM \t debian:12\n\tUSER\t\troot\t\n", "FROM debian:12\nUSER root\n"),
    ],
)
def test_tabs_separate_dockerfile_words_like_spaces(tabbed: str, spaced: str) -> None:
    found = analyze("Dockerfile", tabbed)
    expected = analyze("Dockerfile", spaced)
    assert found and [(f.rule, f.severity, f.line, f.end_line) for f in found] == [
        (f.rule, f.severity, f.line, f.end_line) for f in expected
    ]
    assert [f for f in analyze("Dockerfile", apply(tabbed, all_edits(found))) if f.severity is Severity.ERROR] == []


@pytest.mark.parametrize("path", ["Dockerfile", "pod.yaml"])
@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100),
        b"FROM debian:12\nUSER root\n\x00apiVersion containers",
        "apiVersion: v1\ncontainers: []\n".encode("utf-16"),  # ASCII in UTF-16 is full of NULs
    ],
)
def test_binary_files_are_one_notice(path: str, data: bytes) -> None:
    single_notice(analyze_bytes(path, data), "binary file")


def test_nul_bytes_past_the_binary_probe_do_not_crash() -> None:
    text = "FROM debian:12\n" + "#" * 9000 + "\nRUN echo \x00\nUSER root\n"
    findings = analyze_bytes("Dockerfile", text.encode())
    assert [(f.rule, f.line) for f in findings] == [("UR101", 4)]
    manifest = POD + "# " + "x" * 9000 + "\x00\n"
    in_range(analyze_bytes("pod.yaml", manifest.encode()), manifest)


@fixed_settings(200)
@given(
    st.binary(max_size=400), st.sampled_from([b"", b"FROM debian:12\n", b"apiVersion: v1\nkind: Pod\ncontainers:\n"])
)
def test_arbitrary_bytes_never_raise(data: bytes, prefix: bytes) -> None:
    for path in ("Dockerfile", "pod.yaml"):
        findings = analyze_bytes(path, prefix + data)
        if findings and findings[0].rule == "UR001" and len(findings) == 1:
            continue
        in_range(findings, (prefix + data).decode("utf-8").removeprefix(BOM))


@pytest.mark.parametrize(
    ("path", "text"), [("Dockerfile", "FROM debian:12\nUSER \udcff\n"), ("pod.yaml", POD + "# \udcff\n")]
)
def test_lone_surrogates_do_not_raise(path: str, text: str) -> None:
    analyze(path, text)


def big_pod(count: int) -> str:
    containers = "".join(
        f"  - name: c{n}\n    image: img{n}:1\n    securityContext:\n      allowPrivilegeEscalation: true\n"
        for n in range(count)
    )
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
        "    runAsUser: 10001\n    runAsGroup: 10001\n    seccompProfile: {type: RuntimeDefault}\n"
        f"  containers:\n{containers}"
    )


def test_three_thousand_containers_each_get_their_own_positions() -> None:
    text = big_pod(3000)
    began = time.perf_counter()
    findings = analyze_bytes("big.yaml", text.encode())
    elapsed = time.perf_counter() - began
    print(f"\n3000 containers ({len(text):,} bytes): {elapsed:.2f} s, {len(findings)} findings")
    # Container n is container 0 moved down 4 n lines: its findings are container 0's, shifted.
    one = analyze("big.yaml", big_pod(1))
    assert one and all("'c0'" in f.message for f in one)

    def shifted(finding: Finding, n: int) -> tuple[object, ...]:
        edits = (
            tuple((e.start_line + 4 * n, e.end_line + 4 * n, e.replacement) for e in finding.fix.edits)
            if finding.fix
            else ()
        )
        return (
            finding.rule,
            finding.line + 4 * n,
            finding.end_line + 4 * n,
            finding.message.replace("'c0'", f"'c{n}'"),
            edits,
        )

    expected = sorted(shifted(f, n) for n in range(3000) for f in one)
    got = sorted(
        (
            f.rule,
            f.line,
            f.end_line,
            f.message,
            tuple((e.start_line, e.end_line, e.replacement) for e in f.fix.edits) if f.fix else (),
        )
        for f in findings
    )
    assert got == expected
    fixed = apply(text, all_edits(findings))
    assert serious("big.yaml", fixed) == []


# ================================================================ child processes for resource bombs

CPU_SECONDS = 2  # CPU time, not wall time, so load on the machine cannot trip it; ~0.5 s is enough for 200 KB
MEMORY_BYTES = 1024**3  # address space of the child (it needs ~20 MB)
STACK_BYTES = 8 * 1024**2  # the usual Linux default, so a C stack overflow happens everywhere alike

CHILD = r"""
import json, os, resource, sys
path, source, cpu, memory, stack = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
# Stack growth is checked against the current limit, so lowering it here bounds the main thread.
resource.setrlimit(resource.RLIMIT_STACK, (stack if hard == resource.RLIM_INFINITY else min(stack, hard), hard))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.nice(19)  # the in-process tests keep their core; CPU time, which the limit counts, is unaffected
from rules.analyze import analyze_bytes
findings = analyze_bytes(path, open(source, "rb").read())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "findings": [[f.rule, f.severity.value, f.line, f.end_line, f.message] for f in findings],
    "cpu": usage.ru_utime + usage.ru_stime,
    "max_rss_mb": usage.ru_maxrss / 1024,
}))
"""


def _arg_bomb(levels: int) -> str:
    lines = ["ARG A0=xxxxxxxxxx"] + [f"ARG A{n}=" + f"${{A{n - 1}}}" * 10 for n in range(1, levels + 1)]
    return "FROM debian:12\n" + "\n".join(lines) + f"\nUSER ${{A{levels}}}\nRUN echo hi\n"


# name -> (path, content); every one of them is well under the default 1,000,000-byte limit.
BOMBS: dict[str, tuple[str, str]] = {
    # 100,000 nested block sequences on one line, `- - - - x` (200 KB): the C composer recurses per level.
    # (Flow style `[[[...]]]` crashes the same way, after ~2.7 s of quadratic scanning in libyaml.)
    "deep-block-sequences": ("pod.yaml", POD_HEAD + "x-deep:\n" + "- " * 100_000 + "x\n"),
    # 9 levels of ARG defaults, each ten copies of the one before: ~400 bytes, 10^10 characters expanded.
    "arg-expansion-bomb": ("Dockerfile", _arg_bomb(9)),
    # 28,000 USER lines (200 KB): variables are recomputed from the stage's start for every USER.
    "many-user-lines": ("Dockerfile", "FROM debian:12\n" + "USER u\n" * 28_000),
    # 10,000 USER/sudo pairs (180 KB): every sudo RUN rescans every earlier USER, each recomputing variables.
    "user-and-sudo-pairs": ("Dockerfile", "FROM debian:12\n" + "USER u\nRUN sudo x\n" * 10_000),
    # A heredoc of 200,000 empty lines: the sudo regex's `^(\s*)` backtracks over every newline run.
    "heredoc-of-blank-lines": ("Dockerfile", "FROM debian:12\nRUN <<EOF\n" + "\n" * 200_000 + "EOF\nUSER 1000\n"),
    # Invalid YAML with `{{` not at a line start and 200,000 empty lines: the template regex's `^\s*` again.
    "template-check-on-blank-lines": (
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\ncontainers: [{{\n" + "\n" * 200_000 + "x: [\n",
    ),
}


@dataclasses.dataclass
class ChildRun:
    name: str
    proc: subprocess.Popen[bytes]
    started: float
    result: tuple[int, str, str, float] | None = None

    def wait(self) -> tuple[int, str, str, float]:
        if self.result is None:
            try:
                out, err = self.proc.communicate(timeout=120)  # wall-clock backstop; CPU limit comes first
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, err = self.proc.communicate()
            self.result = (
                self.proc.returncode,
                out.decode(errors="replace"),
                err.decode(errors="replace"),
                time.perf_counter() - self.started,
            )
        return self.result


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ChildRun]]:
    """Start every bomb at once (they are bounded by CPU time, so running together costs no accuracy)."""
    folder = tmp_path_factory.mktemp("bombs")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs: dict[str, ChildRun] = {}
    for name, (path, text) in BOMBS.items():
        source = folder / name
        source.write_bytes(text.encode("utf-8"))
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, path, str(source), str(CPU_SECONDS), str(MEMORY_BYTES), str(STACK_BYTES)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        runs[name] = ChildRun(name, proc, time.perf_counter())
    yield runs
    for run in runs.values():  # only these children, by their own handles
        if run.proc.poll() is None:
            run.proc.kill()
        run.wait()


@pytest.fixture(scope="module", autouse=True)
def _bombs_start_with_the_module(bombs: dict[str, ChildRun]) -> None:
    """The children run while the in-process tests above do; the tests below only collect them."""


def outcome(run: ChildRun) -> dict[str, Any]:
    """The child's JSON result; fails with what happened when it crashed, ran out of CPU or memory."""
    code, out, err, wall = run.wait()
    if code < 0:
        how = {
            signal.SIGSEGV: "segmentation fault (C stack overflow?)",
            signal.SIGXCPU: f"CPU limit of {CPU_SECONDS} s exceeded",
            signal.SIGKILL: f"CPU limit of {CPU_SECONDS} s exceeded (or killed)",
        }.get(signal.Signals(-code), signal.Signals(-code).name)
        pytest.fail(f"{run.name}: the analysis died: {how} after {wall:.1f} s wall")
    assert code == 0, f"{run.name}: exit {code} after {wall:.1f} s:\n{err[-2000:]}"
    result: dict[str, Any] = json.loads(out)
    print(f"\n{run.name}: {result['cpu']:.2f} s CPU, {result['max_rss_mb']:.0f} MB max RSS, {wall:.2f} s wall")
    return result


def twin_findings(name: str) -> list[list[Any]]:
    """The findings of the bomb's pod without its hostile trailing key, in the child's JSON shape."""
    path, _ = BOMBS[name]
    return [[f.rule, f.severity.value, f.line, f.end_line, f.message] for f in analyze_bytes(path, POD_HEAD.encode())]


SEGFAULT = (
    "ruamel.yaml.clib's C composer recurses once per nesting level with no limit: ~28,000 levels "
    "(56 KB of '[') overflow an 8 MB stack and kill the process with SIGSEGV; RecursionError is never raised"
)


def test_deep_nesting_within_the_size_limit_does_not_crash_the_process(bombs: dict[str, ChildRun]) -> None:
    findings = outcome(bombs["deep-block-sequences"])["findings"]
    skipped = len(findings) == 1 and findings[0][0] == "UR001"
    assert skipped or findings == twin_findings("deep-block-sequences"), findings


def test_arg_expansion_bomb_stays_small(bombs: dict[str, ChildRun]) -> None:
    result = outcome(bombs["arg-expansion-bomb"])
    assert result["max_rss_mb"] < 512
    in_range_json(result["findings"], BOMBS["arg-expansion-bomb"][1])


def test_many_user_lines_finish_in_linear_time(bombs: dict[str, ChildRun]) -> None:
    result = outcome(bombs["many-user-lines"])
    in_range_json(result["findings"], BOMBS["many-user-lines"][1])


def test_user_and_sudo_pairs_finish_in_linear_time(bombs: dict[str, ChildRun]) -> None:
    result = outcome(bombs["user-and-sudo-pairs"])
    assert {f[0] for f in result["findings"]} <= {"UR103", "UR104"}
    in_range_json(result["findings"], BOMBS["user-and-sudo-pairs"][1])


def test_heredoc_of_blank_lines_finishes(bombs: dict[str, ChildRun]) -> None:
    assert outcome(bombs["heredoc-of-blank-lines"])["findings"] == []


def test_template_check_on_blank_lines_finishes(bombs: dict[str, ChildRun]) -> None:
    findings = outcome(bombs["template-check-on-blank-lines"])["findings"]
    assert len(findings) == 1 and findings[0][0] == "UR001", findings


def in_range_json(findings: list[list[Any]], text: str) -> None:
    count = max(1, len(split_lines(text)))
    for _rule, _severity, line, end_line, _message in findings:
        assert 1 <= line <= end_line <= count
