"""Pod specs inside wrapper kinds, in documents shaped like each project's own docs and examples."""

from __future__ import annotations

import io

import kubernetes_validate
import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode

from rules.analyze import analyze
from rules.fixes import apply
from rules.kubernetes.discovery import pod_specs
from rules.kubernetes.nodes import value
from rules.model import Finding, Severity
from tests.validation import K8S_VERSION

# ---- documents (shaped after argo-workflows examples/, ECK config/recipes/, tektoncd/catalog,
# openshift/library, kubeflow, kuberay and kserve docs)

ARGO_DIND = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: sidecar-dind-
spec:
  entrypoint: dind-sidecar-example
  templates:
  - name: dind-sidecar-example
    container:
      image: docker:19.03.13
      command: [sh, -c]
      args: ["until docker ps; do sleep 3; done; docker run --rm debian:latest cat /etc/os-release"]
      env:
      - name: DOCKER_HOST
        value: 127.0.0.1
    sidecars:
    - name: dind
      image: docker:19.03.13-dind
      command: [dockerd-entrypoint.sh]
      securityContext:
        privileged: true
      mirrorVolumeMounts: true
"""

# The workflow's securityContext applies to templates without their own; a template's own replaces it.
ARGO_CONTEXTS = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: contexts
spec:
  entrypoint: main
  securityContext:
    runAsNonRoot: true
    runAsUser: 8737
    runAsGroup: 8737
    seccompProfile:
      type: RuntimeDefault
  templates:
  - name: main
    steps:
    - - name: hello
        template: hello
      - name: root
        template: as-root
  - name: hello
    inputs:
      parameters:
      - name: message
    script:
      image: python:alpine3.6
      command: [python]
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
      source: |
        print("{{inputs.parameters.message}}")
  - name: as-root
    securityContext:
      runAsUser: 0
    container:
      image: alpine:3.20
      command: [sh, -c, "id"]
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
"""

ARGO_CRON_HOST_NETWORK = """\
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: hourly
spec:
  schedule: "0 * * * *"
  workflowSpec:
    entrypoint: set
    hostNetwork: true
    templates:
    - name: set
      containerSet:
        containers:
        - name: a
          image: argoproj/argosay:v2
        - name: b
          image: argoproj/argosay:v2
          securityContext:
            capabilities:
              add: [NET_ADMIN]
"""

ECK_SYSCTL = """\
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: quickstart
spec:
  version: 8.15.0
  nodeSets:
  - name: default
    count: 3
    podTemplate:
      spec:
        initContainers:
        - name: sysctl
          securityContext:
            privileged: true
            runAsUser: 0
          command: ['sh', '-c', 'sysctl -w vm.max_map_count=262144']
        containers:
        - name: elasticsearch
          resources:
            limits:
              memory: 4Gi
"""

ECK_KIBANA_QUIET = """\
apiVersion: kibana.k8s.elastic.co/v1
kind: Kibana
metadata:
  name: quickstart
spec:
  version: 8.15.0
  count: 1
  elasticsearchRef:
    name: quickstart
  podTemplate:
    spec:
      containers:
      - name: kibana
        env:
        - name: NODE_OPTIONS
          value: "--max-old-space-size=2048"
"""

ECK_FILEBEAT = """\
apiVersion: beat.k8s.elastic.co/v1beta1
kind: Beat
metadata:
  name: filebeat
spec:
  type: filebeat
  version: 8.15.0
  daemonSet:
    podTemplate:
      spec:
        dnsPolicy: ClusterFirstWithHostNet
        hostNetwork: true # Allows to provide richer host metadata
        securityContext:
          runAsUser: 0
        containers:
        - name: filebeat
          volumeMounts:
          - name: varlogcontainers
            mountPath: /var/log/containers
        volumes:
        - name: varlogcontainers
          hostPath:
            path: /var/log/containers
"""

TEKTON_TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build
spec:
  params:
  - name: image
    type: string
  steps:
  - name: build
    image: gcr.io/kaniko-project/executor:v1.23.0
    args: ["--destination=$(params.image)"]
  - name: report
    image: alpine:3.20
    securityContext:
      runAsUser: 1000
    script: |
      echo done
"""

TEKTON_STEP_TEMPLATE_QUIET = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: lint
spec:
  stepTemplate:
    securityContext:
      runAsNonRoot: true
      runAsUser: 65532
      runAsGroup: 65532
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
      seccompProfile:
        type: RuntimeDefault
      readOnlyRootFilesystem: true
  steps:
  - name: lint
    image: golangci/golangci-lint:v1.59
    script: golangci-lint run
  - name: clone
    ref:
      name: git-clone
"""

TEKTON_PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: ci
spec:
  tasks:
  - name: docker-build
    taskSpec:
      steps:
      - name: build
        image: docker:dind
        securityContext:
          privileged: true
        script: docker build .
  finally:
  - name: notify
    taskRef:
      name: send-to-slack
"""

OPENSHIFT_TEMPLATE = """\
apiVersion: template.openshift.io/v1
kind: Template
metadata:
  name: mariadb-ephemeral
parameters:
- name: DATABASE_SERVICE_NAME
  value: mariadb
- name: REPLICAS
  value: "1"
objects:
- apiVersion: v1
  kind: Service
  metadata:
    name: ${DATABASE_SERVICE_NAME}
  spec:
    ports:
    - port: 3306
- apiVersion: apps.openshift.io/v1
  kind: DeploymentConfig
  metadata:
    name: ${DATABASE_SERVICE_NAME}
  spec:
    replicas: ${{REPLICAS}}
    template:
      spec:
        containers:
        - name: mariadb
          image: " "
          securityContext:
            privileged: true
"""

OPENSHIFT_TEMPLATE_JSON = """\
{
  "kind": "Template",
  "apiVersion": "template.openshift.io/v1",
  "metadata": {"name": "cakephp-example", "annotations": {"unroot.dev/ignore": "UR211"}},
  "objects": [
    {
      "kind": "Deployment",
      "apiVersion": "apps/v1",
      "metadata": {"name": "${NAME}"},
      "spec": {
        "replicas": "${{REPLICAS}}",
        "template": {
          "metadata": {"labels": {"name": "${NAME}"}},
          "spec": {
            "containers": [
              {
                "name": "cakephp-example",
                "image": "cakephp-example:latest",
                "ports": [{"containerPort": 8080}]
              }
            ]
          }
        }
      }
    }
  ]
}
"""

PYTORCH_JOB = """\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: pytorch-simple
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: pytorch
            image: docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727
            command: [python3, /opt/pytorch-mnist/mnist.py, --epochs=1]
    Worker:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: pytorch
            image: docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727
            securityContext:
              runAsUser: 0
"""

RAY_CLUSTER = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: raycluster-kuberay
spec:
  rayVersion: '2.9.0'
  headGroupSpec:
    rayStartParams:
      dashboard-host: '0.0.0.0'
    template:
      spec:
        containers:
        - name: ray-head
          image: rayproject/ray:2.9.0
  workerGroupSpecs:
  - replicas: 1
    groupName: workergroup
    rayStartParams: {}
    template:
      spec:
        containers:
        - name: ray-worker
          image: rayproject/ray:2.9.0
          securityContext:
            privileged: true
"""

KSERVE_ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
  transformer:
    containers:
    - name: kserve-container
      image: kserve/image-transformer:latest
      securityContext:
        runAsUser: 0
"""

KSERVE_RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata:
  name: kserve-sklearnserver
spec:
  supportedModelFormats:
  - name: sklearn
    version: "1"
  containers:
  - name: kserve-container
    image: kserve/sklearnserver:latest
    args:
    - --model_name={{.Name}}
    - --model_dir=/mnt/models
"""

UNKNOWN_OPERATOR = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  runner:
    template:
      metadata:
        labels: {app: w}
      spec:
        hostPID: true
        containers:
        - name: runner
          image: example/runner:1
"""

CRD_SCHEMA = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        properties:
          example:
            containers:
            - name: x
              image: x
              securityContext: {privileged: true}
"""


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def errors(path: str, text: str) -> list[Finding]:
    return [f for f in analyze(path, text) if f.severity is Severity.ERROR]


def _constructed(loader: YAML, node: object) -> object:
    return loader.constructor.construct_object(node, deep=True) if node is not None else None


def assert_every_fix_is_valid(path: str, text: str) -> str:
    """Apply every fix: no error is left but those offered without one (a power the workload asked for,
    rules/docs/fix-policy.md), the file is still YAML, and every securityContext the fixes may have
    written validates where the wrapper kind puts it (a pod's as a Kubernetes PodSecurityContext, a
    container's as a container SecurityContext)."""
    findings = analyze(path, text)
    fixed = apply(text, [edit for f in findings if f.fix for edit in f.fix.edits])
    unfixed = {(f.rule, f.subject, f.variant) for f in findings if f.fix is None}
    assert [f for f in errors(path, fixed) if (f.rule, f.subject, f.variant) not in unfixed] == [], fixed
    loader = YAML(typ="safe", pure=True)
    for document in loader.compose_all(io.StringIO(fixed)):
        assert isinstance(document, MappingNode)
        for pod in pod_specs(document):
            pod_context = _constructed(loader, value(pod.context_owner, "securityContext"))
            containers = [
                {
                    "name": f"c{index}",
                    "image": "x",
                    "securityContext": _constructed(loader, value(c.node, "securityContext")),
                }
                for index, c in enumerate(pod.containers)
            ]
            spec = {"securityContext": pod_context, "containers": containers or [{"name": "c", "image": "x"}]}
            stub = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stub"}, "spec": spec}
            kubernetes_validate.validate(stub, K8S_VERSION, strict=True)
    return fixed


# ---- Argo Workflows


def test_argo_privileged_sidecar_is_flagged_and_named() -> None:
    (privileged,) = by_rule(analyze("wf.yaml", ARGO_DIND), "UR204")
    assert privileged.line == 21
    assert "sidecar 'dind' of templates[0] 'dind-sidecar-example' in Workflow/sidecar-dind-" in privileged.message
    assert privileged.workload == "Workflow/sidecar-dind-"
    fixed = assert_every_fix_is_valid("wf.yaml", ARGO_DIND)
    # The pod-level fix goes into the workflow's securityContext, which every template shares; the
    # identity goes on the main container alone, as the privileged sidecar keeps root (fix-policy.md).
    assert "spec:\n  securityContext:\n    seccompProfile:\n" in fixed
    assert "      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n" in fixed
    assert fixed.endswith("privileged: true\n      mirrorVolumeMounts: true\n")


def test_argo_template_context_replaces_the_workflows() -> None:
    findings = analyze("wft.yaml", ARGO_CONTEXTS)
    root = by_rule(findings, "UR202")
    assert [f.line for f in root] == [35]
    assert "WorkflowTemplate/contexts templates[2] 'as-root'" in root[0].message
    assert "so container 'main' run" in root[0].message  # the template's context reaches its container
    # 'hello' inherits the workflow's runAsNonRoot and seccomp profile: only the notice is left.
    assert [f.rule for f in findings if "'hello'" in f.message] == ["UR211"]
    fixed = assert_every_fix_is_valid("wft.yaml", ARGO_CONTEXTS)
    as_root = fixed.split("  - name: as-root\n")[1]
    assert as_root.startswith("    securityContext:\n      runAsNonRoot: true\n") and "runAsUser: 10001" in as_root
    assert fixed.split("  templates:")[0] == ARGO_CONTEXTS.split("  templates:")[0]  # the workflow's is untouched


def test_argo_workflow_level_host_network_and_container_sets() -> None:
    findings = analyze("cron.yaml", ARGO_CRON_HOST_NETWORK)
    (host,) = by_rule(findings, "UR207")
    assert host.line == 9 and "CronWorkflow/hourly" in host.message
    (caps,) = [f for f in by_rule(findings, "UR206") if f.severity is Severity.ERROR]
    assert "container 'b' of workflowSpec.templates[0] 'set'" in caps.message
    assert_every_fix_is_valid("cron.yaml", ARGO_CRON_HOST_NETWORK)


def test_argo_placeholders_are_not_helm() -> None:
    assert not by_rule(analyze("wft.yaml", ARGO_CONTEXTS), "UR001")
    expressions = ARGO_DIND.replace(
        "        value: 127.0.0.1\n",
        "        value: 127.0.0.1\n"
        '      # the Secret holds `password: "{{ .token }}"`\n'
        "      - name: OWNER\n"
        '        value: "{{workflow.annotations.example.io/owner}}"\n'
        "      - name: LIST\n"
        '        value: "{{=toJson(filter([1, 3], {# > 1}))}}"\n'
        "      - name: LONG\n"
        "        value: >-\n"
        "          {{=\n"
        "            sprig.trim(inputs.parameters.x)\n"
        "          }}\n",
    )
    assert by_rule(analyze("wf.yaml", expressions), "UR204") and not by_rule(analyze("wf.yaml", expressions), "UR001")
    helm = ARGO_DIND.replace("docker:19.03.13-dind", "{{ .Values.dindImage }}")
    (skipped,) = analyze("wf.yaml", helm)
    assert skipped.rule == "UR001" and "Helm" in skipped.message


def test_argo_pod_and_container_inserts_never_meet() -> None:
    """A template that opens with its container (no name first) ends on the line where the
    container's securityContext is inserted: the workflow's goes before the spec's first key."""
    text = ARGO_DIND.replace("  - name: dind-sidecar-example\n    container:\n", "  - container:\n")
    text = text.split("    sidecars:")[0]
    fixed = assert_every_fix_is_valid("wf.yaml", text)
    assert fixed.startswith(text.split("  entrypoint:")[0] + "  securityContext:\n    runAsNonRoot: true\n")


def test_argo_template_annotation_suppresses() -> None:
    text = ARGO_CONTEXTS.replace(
        "  - name: as-root\n",
        '  - name: as-root\n    metadata:\n      annotations:\n        unroot.dev/ignore: "UR202"\n',
    )
    assert by_rule(analyze("wft.yaml", text), "UR202") == []


# ---- Elastic Cloud on Kubernetes: podTemplate patches


def test_eck_sysctl_init_container_is_judged_on_what_it_sets() -> None:
    findings = analyze("es.yaml", ECK_SYSCTL)
    assert sorted({f.rule for f in findings}) == ["UR202", "UR204"]
    (privileged,) = by_rule(findings, "UR204")
    assert privileged.line == 15
    assert "init container 'sysctl' in Elasticsearch/quickstart spec.nodeSets[0].podTemplate" in privileged.message
    assert_every_fix_is_valid("es.yaml", ECK_SYSCTL)


def test_eck_merged_container_that_sets_nothing_is_quiet() -> None:
    assert analyze("kibana.yaml", ECK_KIBANA_QUIET) == []


def test_eck_beat_host_network_and_pod_root() -> None:
    findings = analyze("beat.yaml", ECK_FILEBEAT)
    assert {(f.rule, f.line) for f in findings if f.severity is Severity.ERROR} == {("UR207", 12), ("UR202", 14)}
    assert all("Beat/filebeat spec.daemonSet.podTemplate" in f.message for f in findings)
    assert_every_fix_is_valid("beat.yaml", ECK_FILEBEAT)


def test_eck_pod_level_root_reaches_the_operators_own_containers() -> None:
    text = ECK_KIBANA_QUIET.replace(
        "    spec:\n      containers:", "    spec:\n      securityContext:\n        runAsUser: 0\n      containers:"
    )
    text = text.split("      containers:")[0]
    (root,) = by_rule(analyze("kibana.yaml", text), "UR202")
    assert root.severity is Severity.ERROR and "so the operator's containers run as root" in root.message
    assert_every_fix_is_valid("kibana.yaml", text)


# ---- Tekton: no pod-level securityContext in a Task


def test_tekton_task_fixes_go_into_each_step() -> None:
    findings = analyze("task.yaml", TEKTON_TASK)
    image_user = by_rule(findings, "UR201")
    assert [(f.line, f.severity) for f in image_user] == [(11, Severity.ERROR), (14, Severity.WARNING)]
    assert "step 'build' in Task/build" in image_user[0].message
    assert all("pod's securityContext" not in (f.fix.summary if f.fix else "") for f in findings)
    fixed = assert_every_fix_is_valid("task.yaml", TEKTON_TASK)
    (document,) = YAML(typ="safe", pure=True).load_all(io.StringIO(fixed))
    assert "securityContext" not in document["spec"]  # a Task has no such field
    build, report = document["spec"]["steps"]
    assert build["securityContext"]["runAsNonRoot"] is True and build["securityContext"]["runAsUser"] == 10001
    assert report["securityContext"]["runAsUser"] == 1000  # its own UID is kept


def test_tekton_step_template_applies_to_steps() -> None:
    assert analyze("task.yaml", TEKTON_STEP_TEMPLATE_QUIET) == []
    privileged = TEKTON_STEP_TEMPLATE_QUIET.replace("      runAsNonRoot: true\n", "      privileged: true\n")
    assert {f.rule for f in errors("task.yaml", privileged)} == {"UR204"}


def test_tekton_pipeline_inline_task_spec() -> None:
    (privileged,) = by_rule(analyze("pipeline.yaml", TEKTON_PIPELINE), "UR204")
    assert "step 'build' of spec.tasks[0] 'docker-build' in Pipeline/ci" in privileged.message
    assert_every_fix_is_valid("pipeline.yaml", TEKTON_PIPELINE)


# ---- OpenShift Template


def test_openshift_template_objects_are_checked() -> None:
    (privileged,) = by_rule(analyze("t.yaml", OPENSHIFT_TEMPLATE), "UR204")
    assert privileged.line == 30
    assert "Template/mariadb-ephemeral objects[1] DeploymentConfig/${DATABASE_SERVICE_NAME}" in privileged.message
    assert_every_fix_is_valid("t.yaml", OPENSHIFT_TEMPLATE)


def test_openshift_json_template_with_its_annotation() -> None:
    findings = analyze("t.json", OPENSHIFT_TEMPLATE_JSON)
    assert by_rule(findings, "UR201") and not by_rule(findings, "UR211")
    assert not by_rule(findings, "UR001")
    assert_every_fix_is_valid("t.json", OPENSHIFT_TEMPLATE_JSON)


# ---- Kubeflow, Ray, KServe


def test_kubeflow_replica_specs() -> None:
    (root,) = by_rule(analyze("job.yaml", PYTORCH_JOB), "UR202")
    assert "PyTorchJob/pytorch-simple spec.pytorchReplicaSpecs.Worker.template" in root.message
    assert_every_fix_is_valid("job.yaml", PYTORCH_JOB)


def test_ray_group_specs() -> None:
    findings = analyze("ray.yaml", RAY_CLUSTER)
    assert {f.workload for f in findings} == {"RayCluster/raycluster-kuberay"}
    (privileged,) = by_rule(findings, "UR204")
    assert "spec.workerGroupSpecs[0].template" in privileged.message
    assert_every_fix_is_valid("ray.yaml", RAY_CLUSTER)


def test_kserve_model_container_is_merged_and_transformer_is_judged() -> None:
    findings = analyze("isvc.yaml", KSERVE_ISVC)
    assert not any("'model'" in f.message for f in findings)
    (root,) = by_rule(findings, "UR202")
    assert "InferenceService/sklearn-iris spec.transformer" in root.message
    assert_every_fix_is_valid("isvc.yaml", KSERVE_ISVC)


def test_kserve_runtime_has_no_pod_context() -> None:
    findings = analyze("runtime.yaml", KSERVE_RUNTIME)
    assert by_rule(findings, "UR201")
    assert not by_rule(findings, "UR001")  # `{{.Name}}` is KServe's own placeholder, in a string
    fixed = assert_every_fix_is_valid("runtime.yaml", KSERVE_RUNTIME)
    (document,) = YAML(typ="safe", pure=True).load_all(io.StringIO(fixed))
    assert "securityContext" not in document["spec"]


# ---- anything else


def test_fallback_finds_pod_specs_of_unknown_kinds() -> None:
    (host,) = by_rule(analyze("w.yaml", UNKNOWN_OPERATOR), "UR207")
    assert "Widget/w spec.runner.template sets hostPID" in host.message


@pytest.mark.parametrize("text", [CRD_SCHEMA, UNKNOWN_OPERATOR.replace("kind: Widget", "kind: ConfigMap")])
def test_schemas_and_data_are_not_workloads(text: str) -> None:
    assert analyze("x.yaml", text) == []


# ---- quiet: each wrapper kind, written to the restricted standard, gets no error and no warning

_RESTRICTED_CONTAINER = (
    "allowPrivilegeEscalation: false\n{i}capabilities:\n{i}  drop: [ALL]\n"
    "{i}runAsNonRoot: true\n{i}runAsUser: 10001\n{i}runAsGroup: 10001\n{i}seccompProfile:\n{i}  type: RuntimeDefault\n"
)


def restricted(indent: int) -> str:
    """A restricted container securityContext's body, for a `securityContext:` key at `indent`."""
    inner = " " * (indent + 2)
    return inner + _RESTRICTED_CONTAINER.format(i=inner)


QUIET = {
    "argo": ARGO_DIND.split("    sidecars:")[0].replace(
        "      image: docker:19.03.13\n", "      image: docker:19.03.13\n      securityContext:\n" + restricted(6)
    ),
    "tekton": TEKTON_TASK.split("  - name: report")[0].replace(
        "    image: gcr.io/kaniko-project/executor:v1.23.0\n",
        "    image: gcr.io/kaniko-project/executor:v1.23.0\n    securityContext:\n" + restricted(4),
    ),
    "openshift": OPENSHIFT_TEMPLATE.replace("            privileged: true\n", restricted(10)),
    "pytorch": PYTORCH_JOB.replace("              runAsUser: 0\n", restricted(12)).replace(
        "            command: [python3",
        "            securityContext:\n" + restricted(12) + "            command: [python3",
    ),
    "ray": RAY_CLUSTER.replace("            privileged: true\n", restricted(10)).replace(
        "          image: rayproject/ray:2.9.0\n  workerGroupSpecs",
        "          image: rayproject/ray:2.9.0\n          securityContext:\n" + restricted(10) + "  workerGroupSpecs",
    ),
    "kserve-isvc": KSERVE_ISVC.split("  transformer:")[0],
    "kserve-runtime": KSERVE_RUNTIME + "    securityContext:\n" + restricted(4),
    "eck": ECK_KIBANA_QUIET,
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_restricted_wrappers_are_quiet(name: str) -> None:
    text = QUIET[name]
    assert pod_specs_of(text), "the pod spec must be found for this case to mean anything"
    loud = [f for f in analyze(f"{name}.yaml", text) if f.severity.rank >= Severity.WARNING.rank or f.rule == "UR001"]
    assert loud == [], [f.message for f in loud]


def pod_specs_of(text: str) -> list[object]:
    loader = YAML(typ="safe", pure=True)
    return [pod for document in loader.compose_all(io.StringIO(text)) for pod in pod_specs(document)]
