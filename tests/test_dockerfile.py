"""Dockerfile semantics and fixes: stages, variables, heredocs, distros, suppression."""

from __future__ import annotations

import pytest

from rules.analyze import analyze
from rules.dockerfile.parse import parse
from rules.dockerfile.root_steps import needs_root
from rules.dockerfile.ur103_non_numeric_user import Ur103
from rules.fixes import apply
from rules.images import AppUser, app_user, parse_image
from rules.model import Finding, Options, Severity
from rules.repository import from_texts, references


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


def test_redis_on_alpine_keeps_its_uid_but_is_not_switched_to() -> None:
    # redis:alpine's user is 999 in group 1000: `USER redis` becomes 999, but a fix that needs a
    # user of its own does not borrow a user of another group.
    assert fixed("FROM redis:7-alpine\nUSER redis\n").endswith("USER 999\n")
    assert app_user(parse_image("redis:7-alpine")) is None
    assert app_user(parse_image("redis:7")) == AppUser("redis", 999, 999)


def test_a_familys_row_names_only_its_own_user() -> None:
    # The mysql image has no redis user: the name stays, as on any image that does not ship it.
    assert fixed("FROM mysql:8\nUSER redis\n").endswith("USER redis\n")
    assert fixed("FROM mysql:8\nUSER mysql\n").endswith("USER 999\n")


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


def only_finding(path: str, text: str, options: Options | None = None) -> Finding:
    (finding,) = [f for f in analyze(path, text, options or Options()) if f.rule in ("UR101", "UR102")]
    return finding


def test_switch_goes_below_a_root_step_after_cmd() -> None:
    text = 'FROM debian:12\nCOPY . /app\nCMD ["/app/run"]\nRUN apt-get install -y curl\n'
    result = fixed(text)
    assert result.index("RUN apt-get install -y curl") < result.index("USER 10001:10001")
    assert result.endswith("USER 10001:10001\n")


def test_a_later_step_that_needs_no_root_keeps_the_switch_before_cmd() -> None:
    result = fixed('FROM debian:12\nCOPY . /app\nCMD ["/app/run"]\nRUN echo built > /app/stamp\n')
    assert 'USER 10001:10001\nCMD ["/app/run"]' in result


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        ("apt-get update && apt-get install -y curl", True),
        ("microdnf install -y jq", True),
        ("pip install -r requirements.txt", True),
        ("python -m venv /venv && /venv/bin/pip install -r requirements.txt", False),
        ("pip install --user httpie", False),
        ("npm install -g pnpm", True),
        ("npm ci", False),
        ("sed -i 's/a/b/' /etc/nginx/nginx.conf", True),
        ("mkdir -p /app/data", False),
        ("useradd -u 1000 app", True),
        ("chown -R app /data", True),
    ],
)
def test_which_steps_need_root(command: str, needs: bool) -> None:
    assert needs_root(command) is needs


@pytest.mark.parametrize(
    ("base", "ids", "name"),
    [
        ("node:20-slim", "1000:1000", "node"),
        ("nginx:1.27", "101:101", "nginx"),
        ("ubuntu:24.04", "1000:1000", "ubuntu"),
    ],
)
def test_the_images_own_user_is_used(base: str, ids: str, name: str) -> None:
    finding = only_finding("Dockerfile", f'FROM {base}\nWORKDIR /app\nCOPY . .\nCMD ["x"]\n')
    assert finding.fix is not None
    assert name in finding.fix.summary
    result = fixed(f'FROM {base}\nWORKDIR /app\nCOPY . .\nCMD ["x"]\n')
    assert "useradd" not in result and "adduser" not in result
    assert f"RUN chown -R {ids.split(':')[0]}:0 /app && chmod -R g=u /app\nUSER {ids}\n" in result


def test_configured_ids_win_over_the_images_user() -> None:
    text = 'FROM node:20\nCOPY . /app\nCMD ["node", "/app/s.js"]\n'
    finding = only_finding("Dockerfile", text, Options(uid=2000, gid=2000))
    assert finding.fix is not None
    assert "USER 2000:2000" in finding.fix.edits[0].replacement
    assert "useradd --system --uid 2000" in finding.fix.edits[0].replacement


@pytest.mark.parametrize(
    ("text", "how"),
    [
        ("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", "docker-entrypoint.sh"),
        ("FROM redis:7\nCOPY redis.conf /etc/redis.conf\n", "docker-entrypoint.sh"),
        ('FROM debian:12\nRUN apt-get install -y gosu\nENTRYPOINT ["gosu", "app", "/run"]\n', "gosu"),
        ('FROM alpine:3.20\nRUN apk add su-exec\nCOPY e.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n', "su-exec"),
        ('FROM debian:12\nADD s6-overlay-noarch.tar.xz /\nENTRYPOINT ["/init"]\n', "/init"),
        ('FROM debian:12\nCMD ["setpriv", "--reuid=1000", "--init-groups", "/run"]\n', "setpriv"),
    ],
)
def test_entrypoints_that_drop_root_get_no_second_user(text: str, how: str) -> None:
    finding = only_finding("Dockerfile", text)
    assert finding.fix is None
    assert "drops root itself" in finding.message and how in finding.message


def test_postgres_message_names_its_own_user() -> None:
    assert "USER 999:999" in only_finding("Dockerfile", "FROM postgres:16\n").message


def test_postgres_with_its_own_entrypoint_replaced_is_fixed() -> None:
    finding = only_finding("Dockerfile", 'FROM postgres:16\nENTRYPOINT ["/usr/local/bin/my-start"]\n')
    assert finding.fix is not None and "USER 999:999" in finding.fix.edits[0].replacement


@pytest.mark.parametrize("path", ["python-base/Dockerfile", "docker/Dockerfile.base", "images/base/Dockerfile"])
def test_a_base_image_by_name_gets_the_explanation_not_a_fix(path: str) -> None:
    finding = only_finding(path, "FROM python:3.12\nRUN pip install numpy\n")
    assert finding.fix is None
    assert "USER root" in finding.message and "base image" in finding.message


def test_a_base_the_repository_builds_from_gets_no_fix_and_its_app_does() -> None:
    base = "FROM python:3.12-slim\nRUN pip install flask\n"
    app = 'FROM ghcr.io/acme/platform:1\nCOPY . /srv\nCMD ["python", "/srv/app.py"]\n'
    repo = {"platform/Dockerfile": base, "app/Dockerfile": app}
    wanted = references("app/Dockerfile", app)
    # ghcr.io/acme/platform is found by its directory name, platform/.
    options = Options(knowledge=from_texts(repo, wanted))
    assert options.knowledge is not None and options.knowledge.images
    assert only_finding("platform/Dockerfile", base, options).fix is None
    assert only_finding("app/Dockerfile", app, options).fix is not None


def test_docker_socket_clients_get_a_note_about_the_group() -> None:
    text = 'FROM debian:12\nRUN apt-get install -y docker-ce-cli\nCMD ["docker", "ps"]\n'
    finding = only_finding("Dockerfile", text)
    assert "socket's group" in finding.message and finding.fix is not None
    assert "socket" not in only_finding("Dockerfile", 'FROM debian:12\nCMD ["x"]\n').message
