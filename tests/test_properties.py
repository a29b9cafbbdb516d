"""Property tests: on any input the analysers answer, positions stay in the file, fixes apply."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.analyze import analyze
from rules.fixes import apply, split_lines

DOCKER_LINES = st.sampled_from(
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
        "USER ${U:-1000}",
        "USER app",
        "user 1000",
        "RUN sudo apt-get update",
        "RUN apt-get install -y sudo \\",
        "    && chmod u+s /bin/x",
        "RUN <<EOF",
        "EOF",
        "COPY . /app",
        "COPY --from=build /out /usr/local/bin/",
        "WORKDIR /srv",
        "EXPOSE 80",
        'CMD ["x"]',
        'ENTRYPOINT ["/app"]',
        "# unroot: ignore=UR101 reason",
        "",
        "  ",
        "\t",
        "ENV A=b",
    ]
)
YAML_LINES = st.sampled_from(
    [
        "apiVersion: v1",
        "kind: Pod",
        "kind: Deployment",
        "metadata: {name: x}",
        "spec:",
        "  template:",
        "    spec:",
        "  containers:",
        "  - name: a",
        "    image: x",
        "    securityContext:",
        "      privileged: true",
        "      runAsUser: 0",
        "      capabilities: {add: [SYS_ADMIN]}",
        "      capabilities:",
        "        drop:",
        "        - all",
        "  securityContext:",
        "    runAsNonRoot: false",
        "    seccompProfile: {type: Unconfined}",
        "  hostPID: true",
        "---",
        "  initContainers: []",
        "    securityContext: null",
        "  - {name: b, image: y}",
        "items:",
        "- apiVersion: v1",
        "&a [*a]",
        "{{ .Values.x }}",
        "",
        "\t",
        "    - ALL",
    ]
)


def check_invariants(path: str, text: str) -> None:
    findings = analyze(path, text)
    line_count = max(1, len(split_lines(text)))
    for finding in findings:
        assert 1 <= finding.line <= finding.end_line <= line_count, finding
        if finding.fix is not None:
            for edit in finding.fix.edits:
                assert 1 <= edit.start_line <= edit.end_line <= line_count, edit
    edits = [edit for f in findings if f.fix for edit in f.fix.edits]
    apply(text, edits)  # composed fixes of one file never conflict


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(DOCKER_LINES, max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_dockerfile_analysis_never_raises(lines: list[str], newline: str) -> None:
    check_invariants("Dockerfile", newline.join(lines))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_LINES, max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_manifest_analysis_never_raises(lines: list[str], newline: str) -> None:
    check_invariants("m.yaml", newline.join(lines))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    check_invariants("Dockerfile", text)
    check_invariants("m.yaml", "apiVersion: v1\ncontainers:\n" + text)


SC_VALUES = {
    "runAsNonRoot": st.sampled_from(["true", "false"]),
    "runAsUser": st.sampled_from(["0", "1000"]),
    "runAsGroup": st.sampled_from(["0", "3000"]),
    "allowPrivilegeEscalation": st.sampled_from(["true", "false"]),
    "privileged": st.sampled_from(["true", "false"]),
    "capabilities": st.sampled_from(
        ["{add: [SYS_ADMIN]}", "{drop: [all]}", "{drop: [NET_RAW], add: [CHOWN, NET_BIND_SERVICE]}", "{}"]
    ),
    "seccompProfile": st.sampled_from(["{type: Unconfined}", "{type: RuntimeDefault}"]),
}
POD_ONLY = ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile")


@st.composite
def security_context(draw: st.DrawFn, keys: tuple[str, ...], indent: str, flow: bool) -> str:
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    items = [(key, draw(SC_VALUES[key])) for key in chosen]
    if flow:
        return " {" + ", ".join(f"{k}: {v}" for k, v in items) + "}\n"
    if not items:
        return " {}\n"
    return "\n" + "".join(f"{indent}{k}: {v}\n" for k, v in items)


@st.composite
def pods(draw: st.DrawFn) -> str:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
    if draw(st.booleans()):
        text += "  securityContext:" + draw(security_context(POD_ONLY, "    ", draw(st.booleans())))
    text += "  containers:\n"
    for index in range(draw(st.integers(1, 3))):
        text += f"  - name: c{index}\n    image: example/app:1\n"
        if draw(st.booleans()):
            text += "    securityContext:" + draw(security_context(tuple(SC_VALUES), "      ", draw(st.booleans())))
    return text


@settings(max_examples=300, deadline=None)
@given(pods())
def test_fixing_any_pod_meets_the_restricted_standard(text: str) -> None:
    from tests.validation import assert_valid_after_fix

    findings = analyze("pod.yaml", text)
    fixed = apply(text, [edit for f in findings if f.fix for edit in f.fix.edits])
    # What is left is only what had no fix (a power the workload asked for, rules/docs/fix-policy.md).
    unfixed = {(f.rule, f.subject, f.variant) for f in findings if f.fix is None}
    left = [f for f in analyze("pod.yaml", fixed) if f.severity.value in ("error", "warning")]
    assert all((f.rule, f.subject, f.variant) in unfixed for f in left), (text, fixed, [f.message for f in left])
    assert_valid_after_fix("pod.yaml", text, fixed)
