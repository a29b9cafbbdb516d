"""The CLI's config: found by walking up from each path, strict about keys, `ignore:` as .gitignore,
and baselines that keep accepted findings out of the report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.config import ConfigError, RepoConfig, parse_config
from tests.test_cli import CLEAN_DOCKERFILE, POD, ROOT_DOCKERFILE, unroot


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def rules_of(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]]


def test_a_misspelt_key_is_exit_2_naming_the_file_the_key_and_the_key_meant(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / ".github").mkdir()
    (repo / ".github" / "unroot.yml").write_text("reveiw:\n  event: COMMENT\n")
    (repo / "Dockerfile").write_text(ROOT_DOCKERFILE)
    result = unroot("check", ".", cwd=repo)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "unroot: .github/unroot.yml: unknown key 'reveiw' (known: baseline, fail-on, fix, helm, ignore, "
        "max-bytes, review, rules); did you mean 'review'?\n"
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("fix: {uidd: 1000}\n", "unknown key 'fix.uidd' (known: gid, openshift, uid); did you mean 'fix.uid'?"),
        ("review: {min-severty: error}\n", "did you mean 'review.min-severity'?"),
        ("helm: {charts: {web: {vals: [a.yaml]}}}\n", "unknown key 'helm.charts.web.vals' (known: values)"),
        ("helm: {chart: {}}\n", "unknown key 'helm.chart' (known: charts); did you mean 'helm.charts'?"),
        ("zzz: 1\n", "unknown key 'zzz' (known: baseline,"),
        ("review: {max-inline: 101}\n", "review.max-inline must be a whole number from 0 to 100, not 101"),
        ("review: {max-inline: true}\n", "review.max-inline must be a whole number"),
        ("review: {min-severity: fatal}\n", "review.min-severity: use error, warning or notice, not 'fatal'"),
        ("review: {event: APPROVE}\n", "review.event: use COMMENT or REQUEST_CHANGES, not 'APPROVE'"),
        ("review: [COMMENT]\n", "review: must be a mapping"),
        ("fix: 3\n", "fix: must be a mapping with uid, gid and openshift"),
        ("fail-on: sometimes\n", "fail-on: use error, warning, notice, never, not 'sometimes'"),
        ("baseline: [a]\n", "baseline: must be a file name"),
        ("max_bytes: 5\nmax-bytes: 6\n", "'max-bytes' is given twice"),
    ],
)
def test_unknown_keys_and_wrong_types_name_the_key(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert needle in str(raised.value)


def test_every_key_takes_the_hyphen_and_the_underscore_spelling() -> None:
    text = "fail_on: warning\nmax-bytes: 500\nbaseline: .unroot-baseline.json\nreview:\n  min_severity: notice\n  max-inline: 0\n  event: request_changes\n"
    config = parse_config(text)
    assert (config.fail_on, config.options.max_bytes, config.baseline) == ("warning", 500, ".unroot-baseline.json")
    assert (config.review.min_severity.value, config.review.max_inline, config.review.event) == (
        "notice",
        0,
        "REQUEST_CHANGES",
    )
    assert parse_config("fail-on: never\nmax_bytes: 7\n").options.max_bytes == 7
    assert parse_config("").review.max_inline == 30 and parse_config("").fail_on == "error"


def test_ignore_has_gitignore_semantics() -> None:
    config = RepoConfig(
        ignore=("charts/*/templates/*", "*.tmpl.yaml", "/top.yaml", "docs/*.yaml", "gen/", "!gen/keep.yaml")
    )
    assert config.ignored("charts/web/templates/d.yaml") and config.ignored("a/b/c.tmpl.yaml")
    assert config.ignored("top.yaml") and not config.ignored("sub/top.yaml")  # a leading / anchors
    assert config.ignored("docs/a.yaml") and not config.ignored("docs/a/b.yaml")  # `*` stays in its folder
    assert config.ignored("gen/x/y.yaml") and not config.ignored("gen/keep.yaml")  # `!` re-includes
    assert RepoConfig(ignore=("docs/**/*.yaml",)).ignored("docs/a/b.yaml")


def test_the_nearest_config_governs_each_path_up_to_its_repository(tmp_path: Path) -> None:
    # A checkout holding two repositories, each with its own config, and a config above them both
    # that is outside either repository and so is never read.
    (tmp_path / "unroot.yml").write_text("rules: {UR102: off, UR201: off}\n")
    one = git_init(tmp_path / "one")
    (one / ".github").mkdir()
    (one / ".github" / "unroot.yml").write_text("rules: {UR201: off}\n")
    (one / "unroot.yml").write_text("rules: {UR102: off}\n")  # .github/unroot.yml wins
    two = git_init(tmp_path / "two")
    (two / "unroot.yml").write_text("rules: {UR102: off}\n")
    three = git_init(tmp_path / "three")  # no config: defaults
    for repo in (one, two, three):
        (repo / "svc").mkdir()
        (repo / "svc" / "Dockerfile").write_text(ROOT_DOCKERFILE)
        (repo / "pod.yaml").write_text(POD)
    result = unroot("check", "--format", "json", "two", "one/svc", "one/pod.yaml", "three", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    found = rules_of(result)
    assert ("two/pod.yaml", "UR201") in found and not [p for p, r in found if p.startswith("two") and r == "UR102"]
    assert ("one/svc/Dockerfile", "UR102") in found and not [
        p for p, r in found if p.startswith("one") and r == "UR201"
    ]
    assert {("three/pod.yaml", "UR201"), ("three/svc/Dockerfile", "UR102")} <= set(found)
    # Checked group by group, reported by file (as ruff and hadolint do), whatever the order given.
    order = list(dict.fromkeys(path.split("/")[0] for path, _rule in found))
    assert order == ["one", "three", "two"]
    # From inside a subfolder, the config is found by walking up.
    inner = unroot("check", "--format", "json", "Dockerfile", cwd=two / "svc")
    assert inner.returncode == 0 and rules_of(inner) == []
    # --config overrides discovery for every path.
    (tmp_path / "strict.yml").write_text("rules: {}\n")
    forced = rules_of(unroot("check", "--format", "json", "--config", "strict.yml", "one", "two", cwd=tmp_path))
    assert {("one/pod.yaml", "UR201"), ("two/svc/Dockerfile", "UR102")} <= set(forced)


def test_ignore_patterns_are_relative_to_the_configs_repository_whatever_the_cwd(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / ".github").mkdir()
    (repo / ".github" / "unroot.yml").write_text("ignore:\n  - /deploy/legacy/\n  - '*.gen.yaml'\n")
    (repo / "deploy" / "legacy").mkdir(parents=True)
    (repo / "deploy" / "legacy" / "pod.yaml").write_text(POD)
    (repo / "deploy" / "pod.gen.yaml").write_text(POD)
    (repo / "deploy" / "pod.yaml").write_text(POD)
    (repo / "deploy" / "deploy" / "legacy").mkdir(parents=True)  # not at the root: /deploy/legacy/ is anchored
    (repo / "deploy" / "deploy" / "legacy" / "pod.yaml").write_text(POD)
    expected = {"deploy/pod.yaml", "deploy/deploy/legacy/pod.yaml"}
    assert {p for p, _r in rules_of(unroot("check", "--format", "json", ".", cwd=repo))} == expected
    from_inside = unroot("check", "--format", "json", ".", cwd=repo / "deploy")
    assert {p for p, _r in rules_of(from_inside)} == {"pod.yaml", "deploy/legacy/pod.yaml"}
    from_outside = unroot("check", "--format", "json", "repo/deploy/legacy", "repo/deploy/pod.gen.yaml", cwd=tmp_path)
    assert from_outside.returncode == 0 and rules_of(from_outside) == []


def test_fix_uses_each_paths_own_config(tmp_path: Path) -> None:
    one, two = git_init(tmp_path / "one"), git_init(tmp_path / "two")
    (one / "unroot.yml").write_text("fix: {uid: 2000}\n")
    for repo in (one, two):
        (repo / "Dockerfile").write_text(ROOT_DOCKERFILE)
    assert unroot("fix", "one", "two", cwd=tmp_path).returncode == 0
    assert "USER 2000:2000" in (one / "Dockerfile").read_text()
    assert "USER 10001:10001" in (two / "Dockerfile").read_text()


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: example/app:1
"""
SECOND_CONTAINER = "      - name: sidecar\n        image: example/sidecar:1\n"


def test_a_baseline_keeps_accepted_findings_out_even_when_their_lines_move(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / "k8s").mkdir()
    manifest = repo / "k8s" / "web.yaml"
    manifest.write_text(DEPLOYMENT)
    written = unroot("check", "--write-baseline", "baseline.json", ".", cwd=repo)
    assert written.returncode == 0, written.stderr
    assert "unroot: wrote " in written.stderr and "to the baseline baseline.json" in written.stderr
    data = json.loads((repo / "baseline.json").read_text())
    assert data["version"] == 1 and data["findings"]
    assert set(data["findings"][0]) == {"fingerprint", "rule", "path", "line", "message"}
    assert {e["path"] for e in data["findings"]} == {"k8s/web.yaml"}
    accepted = len(data["findings"])

    manifest.write_text("# moved down\n# by three\n# lines\n" + DEPLOYMENT)
    # Run from a subfolder: the baseline's paths are the repository's, not the cwd's.
    moved = unroot("check", "--format", "json", "--baseline", "../baseline.json", ".", cwd=repo / "k8s")
    assert moved.returncode == 0 and rules_of(moved) == [], moved.stdout
    assert moved.stderr == f"unroot: {accepted} findings in the baseline ../baseline.json are not shown\n"

    manifest.write_text("# moved down\n# by three\n# lines\n" + DEPLOYMENT + SECOND_CONTAINER)
    added = unroot("check", "--format", "json", "--baseline", "baseline.json", ".", cwd=repo)
    assert added.returncode == 1
    assert json.loads(added.stdout)["findings"] and all(
        "'sidecar'" in f["message"] for f in json.loads(added.stdout)["findings"]
    ), added.stdout
    # The config's baseline: works as --baseline does, relative to the repository.
    (repo / "unroot.yml").write_text("baseline: baseline.json\n")
    from_config = unroot("check", "k8s", cwd=repo)
    assert from_config.returncode == 1 and "'sidecar'" in from_config.stdout and "'app'" not in from_config.stdout
    assert from_config.stderr == f"unroot: {accepted} findings in the baseline baseline.json are not shown\n"
    manifest.write_text(DEPLOYMENT)
    assert unroot("check", "k8s", cwd=repo).returncode == 0


def test_a_baseline_is_a_multiset(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    pod = POD.replace("name: app", "name: a")
    (repo / "pods.yaml").write_text(pod)
    assert unroot("check", "--write-baseline", "b.json", "pods.yaml", cwd=repo).returncode == 0
    # The same pod twice: one is in the baseline, the other is new.
    (repo / "pods.yaml").write_text(pod + "---\n" + pod)
    twice = unroot("check", "--format", "json", "--baseline", "b.json", "pods.yaml", cwd=repo)
    accepted = [entry["rule"] for entry in json.loads((repo / "b.json").read_text())["findings"]]
    assert twice.returncode == 1 and [rule for _path, rule in rules_of(twice)] == accepted
    assert twice.stderr == f"unroot: {len(accepted)} findings in the baseline b.json are not shown\n"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "cannot read the baseline missing.json: No such file or directory"),
        ("{not json", "the baseline missing.json is not JSON"),
        ('{"findings": []}', "is not an unroot baseline (version 1)"),
        ('{"version": 1, "findings": [{"rule": "UR201"}]}', "finding 1 has no fingerprint"),
    ],
)
def test_a_missing_or_malformed_baseline_is_exit_2(tmp_path: Path, content: str | None, needle: str) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    if content is not None:
        (tmp_path / "missing.json").write_text(content)
    result = unroot("check", "--baseline", "missing.json", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2 and needle in result.stderr and result.stdout == ""


def test_fail_on_in_the_config_sets_what_exits_1(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / "Dockerfile").write_text('FROM debian:12\nUSER app\nCMD ["/app/run"]\n')  # UR103: a warning
    assert unroot("check", "Dockerfile", cwd=repo).returncode == 0
    (repo / "unroot.yml").write_text("fail-on: warning\n")
    assert unroot("check", "Dockerfile", cwd=repo).returncode == 1
    (repo / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (repo / "unroot.yml").write_text("fail-on: never\n")
    assert unroot("check", "Dockerfile", cwd=repo).returncode == 0


def test_the_readmes_config_example_is_a_valid_config() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    config = parse_config(section[start : section.index("```\n", start)])
    assert config.options.disabled == {"UR211"} and config.baseline == ".unroot-baseline.json"


def test_a_subproject_config_roots_ignore_there_but_sarif_and_baselines_at_the_git_root(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / "svc" / "gen").mkdir(parents=True)
    (repo / "svc" / "unroot.yml").write_text("ignore: [/gen/]\n")  # relative to svc/, where the file is
    (repo / "svc" / "gen" / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (repo / "svc" / "Dockerfile").write_text(ROOT_DOCKERFILE)
    run = json.loads(unroot("check", "--format", "sarif", ".", cwd=repo / "svc").stdout)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"svc/Dockerfile"}
    assert unroot("check", "--write-baseline", "b.json", ".", cwd=repo / "svc").returncode == 0
    assert {e["path"] for e in json.loads((repo / "svc" / "b.json").read_text())["findings"]} == {"svc/Dockerfile"}
