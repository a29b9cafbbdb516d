"""The measuring tools (corpus findings dump and diff, precision sample) on hand-made trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import corpus_findings, precision_sample

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
    root = next(e for e in errors if e.rule == "UR201")
    shown = precision_sample.excerpt(root, context=1)
    assert shown == ["      9 |       - name: web", ">    10 |         image: nginx"]
