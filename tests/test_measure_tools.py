"""The measuring tools (coverage, corpus findings dump and diff, precision sample) on hand-made trees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.analyze import analyze_bytes
from tools import corpus_findings, coverage, precision_sample
from tools.workload_kinds import Definition

ROOT_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
"""

# Two Argo templates that run a container and one that only orders steps: two pods.
ARGO_WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: steps-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: say
  - name: say
    container:
      image: busybox
  - name: script
    script:
      image: python
      source: print(1)
"""

OPENSHIFT_TEMPLATE = """\
{
  "apiVersion": "template.openshift.io/v1",
  "kind": "Template",
  "metadata": {"name": "app"},
  "objects": [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {}},
    {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "metadata": {"name": "dc"},
     "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}
  ]
}
"""

ECK_AND_PATCH = """\
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: es
spec:
  nodeSets:
  - name: default
    podTemplate:
      spec:
        initContainers:
        - name: sysctl
          securityContext:
            privileged: true
  - name: plain
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: patch
spec:
  replicas: 2
---
kind: Deployment
apiVersion: apps/v1
metadata: {name: broken
spec: {template: {spec: {containers: [
"""

HELM_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers:
      - name: app
        image: {{ .Values.image }}
"""


COMPOSE = """\
services:
  web:
    image: nginx
    privileged: true
  cache:
    build: ./cache
  unused:
    profiles: [never]
"""


def _tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name, text in {
        "deploy/web.yaml": ROOT_DEPLOYMENT,
        "argo/workflow.yaml": ARGO_WORKFLOW,
        "openshift/template.json": OPENSHIFT_TEMPLATE,
        "eck/es.yaml": ECK_AND_PATCH,
        "chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 1.0.0\n",
        "chart/templates/deployment.yaml": HELM_DEPLOYMENT,
        "node_modules/pkg/pod.yaml": ROOT_DEPLOYMENT,  # never walked, as `unroot check` skips it
        "Dockerfile": "FROM ubuntu:24.04\nRUN true\n",
        "docker-compose.yml": COMPOSE,
    }.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def test_chunks_split_at_document_markers_and_keep_their_first_line() -> None:
    text = "a: 1\n---\nb: 2\n--- # comment\nc: 3\n"

    pieces = coverage.chunks(text, is_json=False)

    assert [(c.first_line, c.text.splitlines()[-1]) for c in pieces] == [(0, "a: 1"), (1, "b: 2"), (3, "c: 3")]
    assert coverage.chunks(text, is_json=True) == [coverage.Chunk(text, 0)]


def test_definitions_are_found_by_kind_with_their_lines() -> None:
    found = coverage.read_definitions(ARGO_WORKFLOW, is_json=False)

    assert [(d.kind, d.name, d.start_line) for d in found.definitions] == [
        ("Argo Workflow template", "Workflow/steps- spec.templates[1]", 12),
        ("Argo Workflow template", "Workflow/steps- spec.templates[2]", 15),
    ]
    assert found.definitions[0].end_line == 14


def test_wrapped_partial_and_broken_documents_are_told_apart() -> None:
    template = coverage.read_definitions(OPENSHIFT_TEMPLATE, is_json=True)
    eck = coverage.read_definitions(ECK_AND_PATCH, is_json=False)

    assert [d.kind for d in template.definitions] == ["Template>DeploymentConfig"]
    # The nodeSet with a pod template is a definition; the bare one and the replicas-only
    # patch define no pod; the broken document still names a Deployment, so it is counted.
    assert [d.kind for d in eck.definitions] == ["ECK Elasticsearch nodeSet", "Deployment (unparsed)"]
    assert eck.empty_workloads == ["Deployment"]
    assert eck.failed_documents == 1


def test_a_core_service_is_not_a_knative_service() -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  template:\n    spec:\n      containers: []\n"
    )
    knative = service.replace("apiVersion: v1", "apiVersion: serving.knative.dev/v1")

    assert coverage.read_definitions(service, is_json=False).definitions == []
    assert [d.kind for d in coverage.read_definitions(knative, is_json=False).definitions] == ["Knative Service"]


def test_read_means_a_pod_spec_a_finding_or_a_notice_inside_the_definition() -> None:
    definition = Definition("Deployment", "Deployment/web", 10, 20)
    notice = analyze_bytes("x.yaml", b"apiVersion: v1\ncontainers: [\n")
    assert [f.rule for f in notice] == ["UR001"]

    assert coverage.is_read(definition, notice, [])
    assert coverage.is_read(definition, [], [(12, 18)])
    assert not coverage.is_read(definition, [], [(5, 30)])  # a pod spec around it is another object's
    assert not coverage.is_read(definition, [], [(21, 25)])


def test_coverage_counts_by_kind_and_keeps_helm_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _tree(tmp_path)
    tally = coverage.Tally()
    for path, display, scope in coverage.jobs_for([repo]):
        tally.add(display, coverage.measure_file((path, display, scope)))

    assert dict(tally.defined) == {
        "Deployment": 1,
        "Argo Workflow template": 2,
        "Template>DeploymentConfig": 1,
        "ECK Elasticsearch nodeSet": 1,
        "Deployment (unparsed)": 1,
        "Helm Deployment": 1,
        "compose service": 2,
    }
    # Read whatever unroot's discovery becomes: the plain Deployment (a pod spec); the file with
    # the broken document and the Helm template (each file's UR001 notice covers all of it).
    # The wrappers may or may not be read; every definition is either read or listed unread.
    assert {kind: tally.read[kind] for kind in ("Deployment", "Deployment (unparsed)", "Helm Deployment")} == {
        "Deployment": 1,
        "Deployment (unparsed)": 1,
        "Helm Deployment": 1,
    }
    for kind, defined in tally.defined.items():
        assert tally.read[kind] + sum(tally.unread_files[kind].values()) == defined
    assert tally.by_repo["repo"]["target defined"] == 6
    assert tally.by_repo["repo"]["compose defined"] == 2

    assert coverage.main([str(repo), "--samples", "1", "--tsv", str(tmp_path / "out.tsv")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^TOTAL +6 +[3-6] ", out, re.MULTILINE)
    rows = (tmp_path / "out.tsv").read_text().splitlines()
    assert "repo/deploy/web.yaml\t1-10\tDeployment\tDeployment/web spec.template\tread" in rows
    assert len(rows) == 9


def test_corpus_dump_is_sorted_rows_of_every_finding(tmp_path: Path) -> None:
    repo = _tree(tmp_path)

    rows = corpus_findings.dump(repo)

    assert rows == sorted(rows)
    assert {"Dockerfile", "deploy/web.yaml", "eck/es.yaml"} <= {r.path for r in rows}
    assert "node_modules/pkg/pod.yaml" not in {r.path for r in rows}
    root = next(r for r in rows if r.path == "deploy/web.yaml" and r.rule == "UR201")
    assert (root.line, root.severity) == (10, "error")
    assert root.variant.isupper()  # the variant's name (UR201 has several)
    assert len(root.message) <= corpus_findings.MESSAGE_CHARS
    assert corpus_findings.parse(["\t".join(corpus_findings.COLUMNS), root.tsv()]) == [root]


def test_corpus_diff_pairs_changed_verdicts_and_groups_by_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = corpus_findings.Row
    before = [row("a.yaml", 3, "UR201", "error", "-", "runs as root"), row("b.yaml", 1, "UR204", "error", "-", "priv")]
    after = [
        row("a.yaml", 3, "UR201", "warning", "-", "relies on the image"),
        row("c.yaml", 2, "UR207", "error", "HOST_PID", "pid"),
    ]
    (tmp_path / "a.tsv").write_text("".join(r.tsv() + "\n" for r in before))
    (tmp_path / "b.tsv").write_text("".join(r.tsv() + "\n" for r in after))

    assert corpus_findings.main(["--diff", str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "== UR201: 0 gone, 0 new, 1 changed ==",
        "  ~ a.yaml:3 error -> warning - relies on the image",
        "== UR204: 1 gone, 0 new, 0 changed ==",
        "  - b.yaml:1 error - priv",
        "== UR207: 0 gone, 1 new, 0 changed ==",
        "  + c.yaml:2 error HOST_PID pid",
        "3 changed verdicts",
    ]
    assert corpus_findings.main(["--diff", str(tmp_path / "a.tsv"), str(tmp_path / "a.tsv")]) == 0


def test_precision_sample_is_reproducible_and_shows_the_lines(tmp_path: Path) -> None:
    repo = _tree(tmp_path)

    errors = precision_sample.all_errors([repo])
    first = precision_sample.sample(errors, 2, seed=3)

    assert {e.rule for e in errors} >= {"UR102", "UR201"}
    assert all(e.path.startswith("repo/") for e in errors)
    assert first == precision_sample.sample(errors, 2, seed=3)
    assert len(precision_sample.sample(errors, 1000, seed=3)) == len(errors)
    root = next(e for e in errors if e.rule == "UR201" and e.path == "repo/deploy/web.yaml")
    shown = precision_sample.excerpt(root, context=1)
    assert shown == ["      9 |       - name: web", ">    10 |         image: nginx"]
