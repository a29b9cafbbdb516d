"""Helm charts through `unroot check` and `unroot fix`: judged on what Helm renders, fixed where a person edits."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from bot.charts import read_chart
from bot.helm import UnavailableRenderer, renderer
from rules.helm.chart import analyse_chart, ci_values_files
from rules.helm.render import Renderer, RenderRequest
from tests.patience import PATIENCE
from tests.validation import K8S_VERSION

WEB = Path(__file__).parent / "data" / "charts" / "web"
SCAFFOLD_HINTS = "  # capabilities:\n  #   drop:\n  #   - ALL\n  # readOnlyRootFilesystem: true\n"


def unroot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=PATIENCE
    )


def findings(*args: str, cwd: Path) -> list[dict[str, object]]:
    result = unroot("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return found


@pytest.fixture
def helm() -> Iterator[Renderer]:
    with renderer() as live:
        yield live


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """A fresh copy of the `helm create` scaffold, as most charts start."""
    target = tmp_path / "deploy" / "web"
    shutil.copytree(WEB, target)
    return target


def rendered_documents(chart: Path, helm: Renderer, values_files: tuple[str, ...] = ()) -> list[dict[str, object]]:
    source = read_chart(chart)
    assert not isinstance(source, str)
    result = helm.render(source, RenderRequest(values_files=values_files))
    assert result.failure is None, result.message
    documents: list[dict[str, object]] = []
    for _template, text in result.manifests:
        documents.extend(d for d in YAML(typ="safe", pure=True).load_all(io.StringIO(text)) if isinstance(d, dict))
    return documents


def test_scaffold_findings_land_on_the_values_keys_and_the_test_pod_template(tmp_path: Path, chart: Path) -> None:
    result = unroot("check", "deploy", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    values = (chart / "values.yaml").read_text().splitlines()
    pod_line = values.index("podSecurityContext: {}") + 1
    container_line = values.index("securityContext: {}") + 1
    assert any(
        line.startswith(f"deploy/web/values.yaml:{pod_line}: UR201 error container 'web' in Deployment/rel-web")
        and "[values.yaml: podSecurityContext, rendered by templates/deployment.yaml into Deployment/rel-web]" in line
        for line in lines
    ), result.stdout
    assert any(line.startswith(f"deploy/web/values.yaml:{container_line}: UR205 warning") for line in lines)
    # The test pod writes its spec literally: its finding is on the template.
    assert any(
        line.startswith("deploy/web/templates/tests/test-connection.yaml:") and " UR201 error " in line
        for line in lines
    )
    # The chart's files are judged through the chart, never one by one as skipped templates.
    assert "UR001" not in result.stdout
    files = sum(1 for p in chart.rglob("*") if p.is_file())
    assert result.stdout.strip().endswith(f"in 2 of {files} files checked; 8 fixable with `unroot fix`")
    # readOnlyRootFilesystem's fix adds emptyDir mounts, which no chart edit here makes: the
    # finding says so at once instead of promising a second pass of `unroot fix` that never comes.
    assert "second pass" not in result.stdout
    assert sum("UR211 notice" in line and "make it by hand" in line for line in lines) == 2


def test_fix_edits_values_yaml_keeping_the_hints_and_the_chart_renders_clean(
    tmp_path: Path, chart: Path, helm: Renderer
) -> None:
    original = (chart / "values.yaml").read_text()
    fixed = unroot("fix", "deploy", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    after = (chart / "values.yaml").read_text()
    assert "podSecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n" in after
    assert SCAFFOLD_HINTS in after  # the scaffold's commented hints stay
    # A read-only root filesystem needs emptyDir mounts a values key cannot add: never half of it.
    assert not any(line.strip() == "readOnlyRootFilesystem: true" for line in after.splitlines())
    changed = [line for line in after.splitlines() if line not in original.splitlines()]
    assert all(line.startswith(("podSecurityContext:", "securityContext:", " ")) for line in changed), changed
    assert "securityContext:\n" in (chart / "templates" / "tests" / "test-connection.yaml").read_text()
    # Rendered again: no error, and every object validates as Kubernetes.
    again = findings("deploy", cwd=tmp_path)
    assert [f for f in again if f["severity"] == "error"] == []
    for document in rendered_documents(chart, helm):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_a_file_inside_a_chart_means_the_chart(tmp_path: Path, chart: Path) -> None:
    found = findings("deploy/web/templates/deployment.yaml", cwd=tmp_path)
    assert {f["path"] for f in found} >= {"deploy/web/values.yaml"}
    inside = findings(".", cwd=chart)  # run from the chart folder itself
    assert "values.yaml" in {f["path"] for f in inside}


def test_bitnami_style_enabled_false_is_switched_on_by_the_fix(tmp_path: Path, chart: Path, helm: Renderer) -> None:
    (chart / "values.yaml").write_text(
        (chart / "values.yaml")
        .read_text()
        .replace("podSecurityContext: {}", "podSecurityContext:\n  enabled: false\n  fsGroup: 1001")
    )
    template = chart / "templates" / "deployment.yaml"
    template.write_text(
        template.read_text()
        .replace(
            "{{- with .Values.podSecurityContext }}",
            '{{- if .Values.podSecurityContext.enabled }}{{- with omit .Values.podSecurityContext "enabled" }}',
        )
        .replace(
            "{{- toYaml . | nindent 8 }}\n      {{- end }}\n      containers:",
            "{{- toYaml . | nindent 8 }}\n      {{- end }}{{- end }}\n      containers:",
        )
    )
    before = findings("deploy", cwd=tmp_path)
    ur201 = next(f for f in before if f["rule"] == "UR201" and str(f["path"]).endswith("values.yaml"))
    values_lines = (chart / "values.yaml").read_text().splitlines()
    assert values_lines[int(str(ur201["line"])) - 1] == "podSecurityContext:"
    assert unroot("fix", "deploy", cwd=tmp_path).returncode == 0
    text = (chart / "values.yaml").read_text()
    assert "podSecurityContext:\n  enabled: true\n  fsGroup: 1001\n" in text
    assert not [f for f in findings("deploy", cwd=tmp_path) if f["severity"] == "error"]
    for document in rendered_documents(chart, helm):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_literal_template_without_values_gets_its_block_in_the_template(tmp_path: Path, chart: Path) -> None:
    template = chart / "templates" / "deployment.yaml"
    text = template.read_text()
    start = text.index("      {{- with .Values.podSecurityContext }}")
    end = text.index("      containers:")
    text = text[:start] + text[end:]
    start = text.index("          {{- with .Values.securityContext }}")
    end = text.index("          image:")
    template.write_text(text[:start] + text[end:])
    before = findings("deploy", cwd=tmp_path)
    ur201 = next(f for f in before if f["rule"] == "UR201" and "deployment.yaml" in str(f["path"]))
    assert ur201["fix"] is not None, ur201["message"]
    assert unroot("fix", "deploy", cwd=tmp_path).returncode == 0
    fixed = template.read_text()
    assert "    spec:\n      securityContext:\n        runAsNonRoot: true\n" in fixed
    assert "        - name: {{ .Chart.Name }}\n          securityContext:\n" in fixed
    assert not [f for f in findings("deploy", cwd=tmp_path) if f["severity"] == "error"]


def test_host_network_is_placed_on_the_template_line_that_writes_it(tmp_path: Path, chart: Path) -> None:
    template = chart / "templates" / "deployment.yaml"
    template.write_text(template.read_text().replace("    spec:\n", "    spec:\n      hostNetwork: true\n", 1))
    found = findings("deploy", cwd=tmp_path)
    ur207 = [f for f in found if f["rule"] == "UR207"]
    assert ur207, found
    line = template.read_text().splitlines()[int(str(ur207[0]["line"])) - 1]
    assert ur207[0]["path"] == "deploy/web/templates/deployment.yaml" and line.strip() == "hostNetwork: true"


def test_ci_values_files_render_too_and_say_so(tmp_path: Path, chart: Path) -> None:
    (chart / "ci").mkdir()
    (chart / "ci" / "privileged-values.yaml").write_text("securityContext:\n  privileged: true\n")
    assert ci_values_files({"ci/privileged-values.yaml": b"", "ci/notes.md": b"", "values.yaml": b""}) == (
        "ci/privileged-values.yaml",
    )
    found = findings("deploy", cwd=tmp_path)
    ur204 = [f for f in found if f["rule"] == "UR204"]
    assert len(ur204) == 1 and "(with ci/privileged-values.yaml)" in str(ur204[0]["message"])
    assert ur204[0]["path"] == "deploy/web/values.yaml" and ur204[0]["fix"] is None


def test_configured_values_files_are_rendered(tmp_path: Path, chart: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (chart / "values-prod.yaml").write_text("securityContext:\n  runAsUser: 0\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "unroot.yml").write_text(
        "helm:\n  charts:\n    deploy/web:\n      values: [values-prod.yaml]\n"
    )
    found = findings("deploy", cwd=tmp_path)
    assert any(f["rule"] == "UR202" and "(with values-prod.yaml)" in str(f["message"]) for f in found), found
    assert unroot("check", "deploy", cwd=tmp_path).returncode == 1
    (tmp_path / ".github" / "unroot.yml").write_text("helm:\n  charts:\n    deploy/web:\n      values: [../x.yaml]\n")
    refused = unroot("check", "deploy", cwd=tmp_path)
    assert refused.returncode == 2 and "outside the chart" in refused.stderr


def test_required_value_gets_a_notice_naming_it_and_a_ci_file_is_used(tmp_path: Path, chart: Path) -> None:
    template = chart / "templates" / "deployment.yaml"
    template.write_text(
        template.read_text().replace(
            'image: "{{ .Values.image.repository }}',
            'image: "{{ required "image.registry is required" .Values.image.registry }}/{{ .Values.image.repository }}',
        )
    )
    alone = findings("deploy", cwd=tmp_path)
    assert len(alone) == 1 and alone[0]["rule"] == "UR001" and alone[0]["path"] == "deploy/web/Chart.yaml"
    assert "image.registry is required" in str(alone[0]["message"]) and "ci/" in str(alone[0]["message"])
    (chart / "ci").mkdir()
    (chart / "ci" / "default-values.yaml").write_text("image:\n  registry: docker.io\n")
    found = findings("deploy", cwd=tmp_path)
    assert any(f["rule"] == "UR201" and f["path"] == "deploy/web/values.yaml" for f in found)
    assert any(f["rule"] == "UR001" and "image.registry is required" in str(f["message"]) for f in found)


def test_a_broken_template_is_one_notice_and_exit_0(tmp_path: Path, chart: Path) -> None:
    (chart / "templates" / "broken.yaml").write_text("kind: {{ .Values.nope.deeper }\n")
    result = unroot("check", "deploy", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "deploy/web/Chart.yaml:1: UR001 notice Skipped: Helm could not render the chart" in result.stdout


def test_without_helm_the_notice_says_how_to_enable_chart_checks() -> None:
    source = read_chart(WEB)
    assert not isinstance(source, str)
    (notice,) = analyse_chart(source, UnavailableRenderer())
    assert notice.rule == "UR001" and notice.path.endswith("Chart.yaml")
    assert "pip install 'unroot[helm]'" in notice.message


def test_chart_check_measures_renders_placement_and_fixes_that_hold(tmp_path: Path) -> None:
    shutil.copytree(WEB, tmp_path / "web")
    shutil.copytree(WEB, tmp_path / "broken")
    (tmp_path / "broken" / "templates" / "broken.yaml").write_text('{{ fail "no" }}\n')
    result = subprocess.run(
        [sys.executable, "-m", "tools.chart_check", "--charts", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split(" | ")[0]: line for line in result.stdout.splitlines() if " | " in line}
    assert rows["broken"].startswith("broken | no: Skipped: Helm could not render the chart")
    assert rows["web"] == "web | yes | 10 | 2 (2) | 5 | 5 | 8/8"
    assert "fixes: 8/8 hold after re-rendering" in result.stdout
    assert "placement: 5 on values.yaml, 5 on templates (50% on values.yaml)" in result.stdout


def test_a_dependency_not_vendored_is_named_and_the_charts_own_templates_are_judged(
    tmp_path: Path, chart: Path
) -> None:
    with (chart / "Chart.yaml").open("a") as out:
        out.write(
            "dependencies:\n  - name: redis\n    version: 19.x.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n"
        )
    found = findings("deploy", cwd=tmp_path)
    notice = [f for f in found if f["rule"] == "UR001"]
    assert (
        len(notice) == 1
        and "redis" in str(notice[0]["message"])
        and "rendered without redis" in str(notice[0]["message"])
    )
    assert "vendor the dependency under charts/" in str(notice[0]["message"])
    assert any(f["rule"] == "UR201" and f["path"] == "deploy/web/values.yaml" for f in found)
    assert unroot("fix", "deploy", cwd=tmp_path).returncode == 0
    assert "dependencies:\n  - name: redis\n" in (chart / "Chart.yaml").read_text()  # only ever rendered without it
    assert not [f for f in findings("deploy", cwd=tmp_path) if f["severity"] == "error"]


def test_a_fix_that_needs_mounts_is_not_offered_as_a_values_edit(tmp_path: Path, chart: Path) -> None:
    values = chart / "values.yaml"
    values.write_text(
        values.read_text()
        .replace(
            "podSecurityContext: {}",
            "podSecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n  runAsGroup: 10001\n"
            "  seccompProfile:\n    type: RuntimeDefault",
        )
        .replace(
            "securityContext: {}",
            "securityContext:\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop:\n    - ALL",
        )
    )
    found = findings("deploy", cwd=tmp_path)
    (read_only,) = [f for f in found if f["rule"] == "UR211" and f["path"] == "deploy/web/values.yaml"]
    assert read_only["fix"] is None and "more than a securityContext" in str(read_only["message"])
    assert unroot("fix", "deploy", cwd=tmp_path).returncode == 0
    assert "readOnlyRootFilesystem: true\n" not in values.read_text().replace("# readOnlyRootFilesystem: true\n", "")
