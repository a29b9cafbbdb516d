"""The compose family: which files it reads, and fixes that touch only what they must."""

from __future__ import annotations

import pytest

from rules.analyze import analyze, file_kind
from rules.fixes import apply
from rules.model import FileKind, Options


@pytest.mark.parametrize(
    "path",
    [
        "compose.yaml",
        "compose.yml",
        "deploy/docker-compose.yml",
        "docker-compose.yaml",
        "docker-compose.override.yml",
        "docker-compose.prod.yaml",
        "compose.dev.yaml",
        "Docker-Compose.YML",
    ],
)
def test_compose_names(path: str) -> None:
    assert file_kind(path) is FileKind.COMPOSE


@pytest.mark.parametrize("path", ["composer.yaml", "my-compose.yml", "compose.json", "docker-compose.yml.bak"])
def test_names_that_are_not_compose(path: str) -> None:
    assert file_kind(path) is not FileKind.COMPOSE


ROOT_SERVICE = "services:\n  app:\n    image: example/app:1.0\n    user: root\n"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # GitHub workflow: `services:` nested under a job.
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  t:\n    services:\n      db:\n        image: x\n        options: --privileged\n",
        ),
        # GitLab CI: top-level `services:` is a list.
        (".gitlab-ci.yml", "services:\n  - docker:dind\nbuild:\n  script: [make]\n"),
        # Woodpecker: compose-like services beside `steps:`.
        (".woodpecker.yml", "steps:\n  b:\n    image: x\nservices:\n  db:\n    image: x\n    privileged: true\n"),
        # services that are not containers.
        ("config.yml", "services:\n  mail:\n    host: smtp.example.com\n    user: root\n"),
    ],
)
def test_other_yaml_with_services_is_not_read_as_compose(path: str, text: str) -> None:
    assert analyze(path, text) == []


def test_a_compose_file_of_another_name_is_found_by_its_shape() -> None:
    rules = [f.rule for f in analyze("stack/dev.yml", ROOT_SERVICE + "    privileged: true\n")]
    assert rules == ["UR306", "UR301", "UR302"]


def test_a_compose_file_is_not_read_as_kubernetes() -> None:
    text = "services:\n  app:\n    image: x\n    environment:\n      apiVersion: v1\n      containers: a\n"
    assert [f.rule for f in analyze("docker-compose.yml", text)] == ["UR306"]


def test_broken_compose_file_is_skipped_with_a_notice() -> None:
    findings = analyze("compose.yaml", "services:\n  app: [\n")
    assert [(f.rule, f.severity.value) for f in findings] == [("UR001", "notice")]


def test_a_repeated_key_is_refused_as_compose_refuses_it() -> None:
    findings = analyze("compose.yaml", "services:\n  app:\n    image: x\n    user: root\n    user: '1000'\n")
    assert [(f.rule, f.message) for f in findings] == [("UR001", "Skipped: duplicate key 'user' at line 5.")]


def test_fix_changes_only_the_user_line_and_keeps_comments() -> None:
    text = "# top\nservices:\n  app:  # the app\n    image: example/app:1.0\n    user: 'root'   # why\n    ports: ['80:80']\n"
    findings = [f for f in analyze("compose.yaml", text, Options(uid=2000, gid=3000)) if f.rule == "UR301"]
    assert findings[0].fix is not None
    fixed = apply(text, findings[0].fix.edits)
    assert fixed == text.replace("'root'", "'2000:3000'")


def test_crlf_file_keeps_its_line_endings() -> None:
    text = ROOT_SERVICE.replace("\n", "\r\n")
    findings = analyze("compose.yaml", text)
    fixed = apply(text, [e for f in findings if f.fix for e in f.fix.edits])
    assert "\n" not in fixed.replace("\r\n", "")
    assert 'user: "10001:10001"\r\n' in fixed and 'security_opt: ["no-new-privileges:true"]\r\n' in fixed


def test_a_service_that_is_an_alias_gets_no_fix() -> None:
    text = "services:\n  app: &app\n    image: example/app:1.0\n    user: root\n  copy: *app\n"
    findings = [f for f in analyze("compose.yaml", text) if f.rule in ("UR301", "UR306")]
    assert {f.subject for f in findings} == {"service 'app'", "service 'copy'"}
    assert all(f.fix is None and "No fix offered" in f.message for f in findings)


def test_own_keys_win_over_merged_ones() -> None:
    text = "x-base: &base\n  user: root\nservices:\n  app:\n    <<: *base\n    image: x\n    user: '1000'\n"
    assert [f.rule for f in analyze("compose.yaml", text)] == ["UR306"]


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    text = "x-base: &base\n  user: root\nservices:\n  app:\n    '<<': *base\n    image: x\n"
    assert "UR301" not in [f.rule for f in analyze("compose.yaml", text)]


def test_suppression_above_the_service_or_the_line() -> None:
    text = (
        "services:\n  # unroot: ignore=UR301,UR306 backups read every volume\n  app:\n    image: x\n    user: root\n"
        "    volumes:\n      # unroot: ignore=UR305 it backs up containers\n      - /var/run/docker.sock:/s\n"
        "      - /etc:/host-etc\n"
    )
    assert [(f.rule, f.line) for f in analyze("compose.yaml", text)] == [("UR305", 9)]


def test_cap_drop_is_added_only_for_a_non_root_service() -> None:
    root = analyze("compose.yaml", "services:\n  app:\n    image: x\n")
    assert root[0].fix is not None and root[0].fix.summary == "Add security_opt: [no-new-privileges:true]"
    assert "cap_drop: [ALL] is not added" in root[0].message
    non_root = analyze("compose.yaml", "services:\n  app:\n    image: x\n    user: '1000'\n")
    assert non_root[0].fix is not None
    assert non_root[0].fix.summary == "Add cap_drop: [ALL] and security_opt: [no-new-privileges:true]"


def test_existing_lists_get_a_first_item_in_their_own_style() -> None:
    text = "services:\n  app:\n    image: x\n    user: '1000'\n    cap_drop: [NET_RAW]\n    security_opt:\n    - label:disable\n"
    findings = analyze("compose.yaml", text)
    fixed = apply(text, [e for f in findings if f.fix for e in f.fix.edits])
    assert fixed == text.replace("[NET_RAW]", "[ALL, NET_RAW]").replace(
        "    - label", '    - "no-new-privileges:true"\n    - label'
    )
    assert analyze("compose.yaml", fixed) == []


def test_docker_default_capabilities_are_not_dangerous() -> None:
    text = "services:\n  app:\n    image: x\n    cap_add: [cap_net_raw, Chown, SETUID, ${EXTRA_CAP}]\n"
    assert "UR303" not in [f.rule for f in analyze("compose.yaml", text)]


def test_every_interpolation_form() -> None:
    def user_findings(user: str) -> list[str]:
        text = f"services:\n  app:\n    image: x\n    user: {user}\n"
        return [f.message for f in analyze("compose.yaml", text) if f.rule == "UR301"]

    assert user_findings('"${U-0}:${G-0}"') and user_findings("${U:-root}")
    assert not user_findings("${U:?set U}") and not user_findings("${U:+root}") and not user_findings("$U")
    assert "unless U is set" in user_findings("${U:-root}")[0]
