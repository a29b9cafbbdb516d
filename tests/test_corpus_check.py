"""tools/corpus_check.py on a tiny corpus built in tmp_path (never the shared corpus)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HEADER = "source\tpath\tobject\tupstream_check\texpected\tnote\n"

RESTRICTED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  securityContext:
{pod_sc}    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: registry.k8s.io/pause
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
"""

WRAPPER = """\
kubernetes:
  good:
    - |-
      apiVersion: v1
      kind: Pod
      metadata:
        name: hello
      spec:
        containers:
          - name: hello
            image: busybox
            securityContext:
              runAsNonRoot: true
  bad:
    - |-
      apiVersion: v1
      kind: Pod
      metadata:
        name: hello
      spec:
        containers:
          - name: hello
            image: busybox
            securityContext:
              privileged: true
"""

CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  containers: "apiVersion is only text here"
"""


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "tools" / "corpus_check.py"
    spec = importlib.util.spec_from_file_location("corpus_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus_check = _load()


def _corpus(tmp_path: Path, rows: list[str]) -> Path:
    root = tmp_path / "corpus"
    (root / "psa" / "restricted" / "pass").mkdir(parents=True)
    (root / "psa" / "restricted" / "fail").mkdir(parents=True)
    (root / "trivy-checks").mkdir()
    (root / "real-world").mkdir()
    (root / "psa/restricted/pass/base.yaml").write_text(
        RESTRICTED_POD.format(name="base", pod_sc="    runAsNonRoot: true\n")
    )
    (root / "psa/restricted/fail/runasnonroot0.yaml").write_text(RESTRICTED_POD.format(name="runasnonroot0", pod_sc=""))
    (root / "trivy-checks/privileged.yaml").write_text(WRAPPER)
    (root / "real-world/settings.yaml").write_text(CONFIG_MAP)
    (root / "labels.tsv").write_text(HEADER + "".join(row + "\n" for row in rows))
    return root


PASS_ROW = "psa\tpsa/restricted/pass/base.yaml\tPod/base\tpsa:restricted:base\tpass\tbase"
FAIL_ROW = "psa\tpsa/restricted/fail/runasnonroot0.yaml\tPod/runasnonroot0\tpsa:restricted:runAsNonRoot\tfail\tunset"
CONTROL_PASS_ROW = "psa\tpsa/restricted/pass/base.yaml\tPod/base\tpsa:restricted:runAsNonRoot\tpass\tbase"
OTHER_ROW = (
    "psa\tpsa/restricted/fail/runasnonroot0.yaml\tPod/runasnonroot0\tpsa:restricted:restrictedVolumes\tfail\tother"
)
TRIVY_ROWS = [
    "trivy-checks\ttrivy-checks/privileged.yaml\tkubernetes.good[0]\ttrivy:KSV-0017\tpass\tgood",
    "trivy-checks\ttrivy-checks/privileged.yaml\tkubernetes.bad[0]\ttrivy:KSV-0017\tfail\tbad",
]


def test_full_agreement_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path, [PASS_ROW, FAIL_ROW, CONTROL_PASS_ROW, OTHER_ROW, *TRIVY_ROWS])

    assert corpus_check.main(["--corpus", str(corpus)]) == 0

    report = corpus_check.build_report(corpus)
    psa = report.scored("psa", root_only=True)
    assert len(psa) == 3  # the restrictedVolumes row is not scored
    assert all(r.agree for r in psa)
    assert report.psa_agreement == 100.0
    assert [r.agree for r in report.scored("trivy-checks")] == [True, True]
    assert report.non_workload_files == 2  # the trivy wrapper and the ConfigMap
    assert report.non_workload_errors == []
    assert report.real_world_files == 1
    out = capsys.readouterr().out
    assert "PSA root-related agreement: 3/3 = 100.0%" in out
    assert "RESULT: OK" in out


def test_disagreement_is_listed_and_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Mislabel the failing pod as admitted: we must disagree twice over (UR201 fires, pod not clean).
    wrong = FAIL_ROW.replace("\tfail\t", "\tpass\t")
    corpus = _corpus(tmp_path, [PASS_ROW, wrong])

    assert corpus_check.main(["--corpus", str(corpus)]) == 1

    report = corpus_check.build_report(corpus)
    assert report.psa_agreement == 50.0
    out = capsys.readouterr().out
    assert "DISAGREE psa/restricted/fail/runasnonroot0.yaml Pod/runasnonroot0 psa:restricted:runAsNonRoot" in out
    assert "UR201:error" in out
    assert "RESULT: FAIL" in out


def test_missing_corpus_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert corpus_check.main(["--corpus", str(tmp_path / "absent")]) == 0
    assert "does not exist" in capsys.readouterr().out


def test_baseline_controls_score_against_the_baseline_rules(tmp_path: Path) -> None:
    """A hostPort fixture is judged by UR213: the port fails the row, its absence passes it."""
    corpus = _corpus(tmp_path, [])
    with_port = RESTRICTED_POD.format(name="hostports0", pod_sc="    runAsNonRoot: true\n") + (
        "    ports:\n    - containerPort: 12345\n      hostPort: 12345\n"
    )
    (corpus / "psa/restricted/fail/hostports0.yaml").write_text(with_port)
    rows = [
        "psa\tpsa/restricted/fail/hostports0.yaml\tPod/hostports0\tpsa:restricted:hostPorts\tfail\tport",
        "psa\tpsa/restricted/pass/base.yaml\tPod/base\tpsa:restricted:hostPorts\tpass\tno port",
    ]
    (corpus / "labels.tsv").write_text(HEADER + "".join(row + "\n" for row in rows))

    report = corpus_check.build_report(corpus)

    assert [(r.agree, r.said.split(" ")[0]) for r in report.scored("psa")] == [
        (True, "UR213:warning"),
        (True, "nothing"),
    ]
