"""Dockerfile semantics and fixes: stages, variables, heredocs, distros, suppression."""

from __future__ import annotations

import pytest

from rules.analyze import analyze
from rules.dockerfile.parse import parse
from rules.dockerfile.ur103_non_numeric_user import Ur103
from rules.fixes import apply
from rules.model import Severity


def fixed(text: str) -> str:
    findings = analyze("Dockerfile", text)
    return apply(text, [e for f in findings if f.fix for e in f.fix.edits])


def rules_of(text: str) -> list[str]:
    return [f.rule for f in analyze("Dockerfile", text)]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("debian:12", "groupadd --system --gid 10001 appuser && useradd --system --uid 10001"),
        ("ubuntu:22.04", "useradd --system --uid 10001"),
        ("python:3.12-slim", "useradd --system --uid 10001"),
        ("alpine:3.20", "addgroup -S -g 10001 appuser && adduser -S -D -H -u 10001 -G appuser appuser"),
        ("python:3.12-alpine", "adduser -S -D -H -u 10001"),
        ("busybox:1.36", "addgroup -g 10001 appuser && adduser -D -H -u 10001 -G appuser appuser"),
        (
            "registry.access.redhat.com/ubi9/ubi-minimal:9.4",
            "microdnf install -y shadow-utils && microdnf clean all && groupadd --system --gid 10001",
        ),
        ("opensuse/leap:15.6", "zypper --non-interactive install --no-recommends shadow && groupadd"),
        ("registry.access.redhat.com/ubi9/ubi:9.4", "useradd --system --uid 10001"),
    ],
)
def test_user_is_created_with_the_base_images_tools(base: str, expected: str) -> None:
    result = fixed(f'FROM {base}\nCOPY app /srv/app\nCMD ["/srv/app"]\n')
    assert expected in result
    assert result.endswith('USER 10001:10001\nCMD ["/srv/app"]\n')
    assert "chown -R 10001:0 /srv/app && chmod -R g=u /srv/app" in result
    assert not [f for f in analyze("Dockerfile", result) if f.severity is Severity.ERROR]


@pytest.mark.parametrize(
    "base",
    [
        "scratch",
        "gcr.io/distroless/static-debian12",
        "cgr.dev/chainguard/static:latest-root",
        "registry.access.redhat.com/ubi9/ubi-micro:9.4",
    ],
)
def test_images_without_a_shell_get_only_a_numeric_user(base: str) -> None:
    result = fixed(f'FROM {base}\nCOPY app /app\nENTRYPOINT ["/app"]\n')
    assert "RUN" not in result
    assert "USER 10001:10001\nENTRYPOINT" in result


def test_unknown_base_uses_the_package_manager_it_runs() -> None:
    result = fixed('FROM registry.example.com/base:7\nRUN apk add --no-cache curl\nCMD ["x"]\n')
    assert "adduser -S" in result


def test_unknown_base_without_hints_gets_only_user() -> None:
    result = fixed('FROM registry.example.com/base:7\nCMD ["x"]\n')
    assert result == 'FROM registry.example.com/base:7\nUSER 10001:10001\nCMD ["x"]\n'


def test_user_root_line_is_replaced_when_nothing_after_needs_root() -> None:
    text = 'FROM debian:12\nRUN apt-get update\nUSER root\nCMD ["x"]\n'
    result = fixed(text)
    assert "USER root" not in result
    assert result.index("USER 10001:10001") < result.index("CMD")


def test_user_root_before_root_steps_stays_and_switch_goes_before_cmd() -> None:
    text = 'FROM debian:12\nUSER root\nRUN apt-get install -y curl\nCMD ["x"]\n'
    result = fixed(text)
    assert "USER root\nRUN apt-get install -y curl\n" in result
    assert result.endswith('USER 10001:10001\nCMD ["x"]\n')


def test_only_the_final_stage_counts_and_inheritance_is_followed() -> None:
    assert "UR101" not in rules_of("FROM debian AS build\nUSER root\nFROM scratch\nUSER 65532\n")
    assert "UR101" in rules_of('FROM debian AS base\nUSER root\nFROM base AS final\nCMD ["x"]\n')
    assert "UR102" not in rules_of('FROM debian AS base\nUSER 1000\nFROM base\nCMD ["x"]\n')


def test_instructions_are_case_insensitive_and_continuations_joined() -> None:
    text = "from debian\nrun apt-get update && \\\n    apt-get install -y \\\n    sudo\nuser 1000\n"
    findings = analyze("Dockerfile", text)
    sudo = [f for f in findings if f.rule == "UR104"]
    assert [(f.line, f.end_line) for f in sudo] == [(2, 4)]


def test_heredoc_bodies_are_not_instructions() -> None:
    text = "FROM debian\nUSER 1000\nCOPY <<EOF /etc/motd\nUSER root\nFROM evil\nEOF\nRUN <<-EOT\n\tuser root\n\tEOT\n"
    df = parse(text)
    assert len(df.stages) == 1
    assert [i.keyword for i in df.stages[0].instructions] == ["USER", "COPY", "RUN"]
    assert "UR101" not in rules_of(text)


def test_non_numeric_user_gets_the_uid_the_dockerfile_creates() -> None:
    text = "FROM debian\nRUN groupadd -g 2000 app && useradd -u 2000 -g app app\nUSER app:app\n"
    result = fixed(text)
    assert result.endswith("USER 2000:2000\n")
    assert fixed("FROM node:20\nUSER node\n").endswith("USER 1000\n")


def test_a_named_base_image_user_gets_its_number_for_kubernetes() -> None:
    result = fixed('FROM prom/prometheus:v2.53.0\nCOPY app /app\nENTRYPOINT ["/app"]\n')
    assert "USER 65534\nENTRYPOINT" in result


def test_distroless_nonroot_is_numeric_and_needs_nothing() -> None:
    assert rules_of('FROM gcr.io/distroless/static:nonroot\nCOPY app /app\nENTRYPOINT ["/app"]\n') == []


@pytest.mark.parametrize(
    ("base", "user", "uid"),
    [
        ("postgres:16", "postgres", "999"),
        ("postgres:16-alpine", "postgres", "70"),
        ("redis:7", "redis", "999"),
        ("nginx:1.27", "nginx", "101"),
        ("quay.io/jupyter/minimal-notebook:latest", "jovyan", "1000"),
        ("ubuntu:24.04", "ubuntu", "1000"),
    ],
)
def test_users_an_image_family_ships_get_that_familys_number(base: str, user: str, uid: str) -> None:
    assert fixed(f"FROM {base}\nUSER {user}\n").endswith(f"USER {uid}\n")


def test_a_name_whose_number_differs_between_families_gets_no_fix() -> None:
    # ubuntu 22.04 has no `ubuntu` user; postgres on an unknown base could be any number.
    assert fixed("FROM ubuntu:22.04\nUSER ubuntu\n").endswith("USER ubuntu\n")
    assert fixed("FROM example/db:1\nUSER postgres\n").endswith("USER postgres\n")


def test_sudo_is_dropped_where_the_build_is_root_anyway() -> None:
    result = fixed("FROM debian:12\nRUN sudo apt-get update\nUSER 1000\n")
    assert "RUN apt-get update\n" in result
    multi = fixed("FROM debian:12\nRUN make && \\\n    sudo -E make install\nUSER 1000\n")
    assert "RUN make && \\\n    make install\n" in multi


def test_only_app_files_are_made_group_writable() -> None:
    text = 'FROM python:3.12\nCOPY --from=build /install /usr/local\nCOPY conf /etc/app/\nWORKDIR /srv\nCOPY . .\nCMD ["x"]\n'
    result = fixed(text)
    assert "chown -R 10001:0 /srv && chmod -R g=u /srv\n" in result


def test_suppression_comment_with_reason() -> None:
    text = "FROM debian:12\n# unroot: ignore=UR101 the init system needs root\nUSER root\n"
    assert "UR101" not in rules_of(text)
    stage_wide = "# unroot: ignore=UR102,UR104 legacy image, tracked in JIRA-1\nFROM debian:12\nRUN sudo true\n"
    assert rules_of(stage_wide) == []


def test_crlf_dockerfile_fix_keeps_crlf() -> None:
    text = 'FROM debian:12\r\nUSER root\r\nCMD ["x"]\r\n'
    result = fixed(text)
    assert "USER 10001:10001\r\n" in result
    assert "\n" not in result.replace("\r\n", "")


def test_messages_name_the_stage() -> None:
    (finding,) = [f for f in analyze("Dockerfile", "FROM debian AS runtime\nUSER root\n") if f.rule == "UR101"]
    assert "stage 'runtime'" in finding.message


def test_non_numeric_user_findings_say_where_the_name_comes_from() -> None:
    from_user = [f for f in analyze("Dockerfile", "FROM node:20\nUSER node\n") if f.rule == "UR103"]
    from_base = [f for f in analyze("Dockerfile", "FROM prom/node-exporter:v1.8.0\n") if f.rule == "UR103"]
    assert [f.variant for f in from_user] == [Ur103.USER]
    assert [f.variant for f in from_base] == [Ur103.BASE_IMAGE]
    assert from_user[0].workload is None and from_user[0].container is None  # Kubernetes fields only


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        ("FROM debian:12 \\", "UR102", 1),
        ("FROM debian:12\nUSER root \\\n", "UR101", 2),
        ("FROM debian:12\nRUN apt-get update \\\n\n\n", "UR102", 2),
        ("# escape=`\nFROM debian:12 `", "UR102", 2),
    ],
    ids=["FROM", "USER root", "RUN then blank lines", "escape directive"],
)
def test_an_instruction_continued_past_the_end_of_the_file_is_read_as_docker_reads_it(
    text: str, rule: str, line: int
) -> None:
    # Docker builds the last instruction as it stands; dockerfile-parse dropped it, and with it
    # the root image or the USER root. A line appended by a fix would join that instruction,
    # so no fix is offered, and the message says why.
    (finding,) = [f for f in analyze("Dockerfile", text) if f.severity.value == "error"]
    assert (finding.rule, finding.line, finding.fix) == (rule, line, None)
    assert "last line ends with a line continuation" in finding.message


def test_a_non_root_user_continued_past_the_end_of_the_file_still_counts() -> None:
    assert analyze("Dockerfile", "FROM debian:12\nUSER 10001:10001 \\\n\n") == []
