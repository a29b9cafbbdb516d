"""What the repository knows of the images it builds: the mappings, the users, and how the rules use them."""

from __future__ import annotations

import pickle

from rules.analyze import analyze
from rules.fixes import apply
from rules.kubernetes.ur201_may_run_as_root import Ur201
from rules.kubernetes.ur220_non_numeric_image_user import Ur220
from rules.model import Finding, Options, Severity
from rules.repository import DIRECTORY_NAME, build_index, from_texts, references
from tests.rule_cases import (
    APP_NAME_ONLY,
    APP_NAMED,
    APP_UID_1000,
    BASE_NOTEBOOK,
    COMPOSE,
    NOTEBOOK_RECIPE,
    RESTRICTED_CONTAINER,
    RESTRICTED_POD,
    SKAFFOLD,
    WORKFLOW,
    pod,
)

MANIFEST = pod(RESTRICTED_CONTAINER)  # image example/app:1.0, nothing about the user


def _located(files: dict[str, str], reference: str) -> tuple[str, str] | None:
    index = build_index(sorted(files), files)
    found = index.locate(reference)
    return (found.dockerfile, found.source) if found else None


def _findings(files: dict[str, str], path: str = "k8s/pod.yaml", text: str = MANIFEST) -> list[Finding]:
    return analyze(path, text, Options(knowledge=from_texts(files, references(path, text))))


def test_skaffold_maps_an_artifact_to_its_context_and_dockerfile() -> None:
    files = {"deploy/skaffold.yaml": SKAFFOLD, "deploy/services/app/Dockerfile.prod": APP_UID_1000}
    assert _located(files, "example/app:1.0") == ("deploy/services/app/Dockerfile.prod", "deploy/skaffold.yaml")
    assert _located(files, "example/other:1.0") is None
    assert _located(files, "registry.example.com/team/app:1.0") is None  # another repository's app
    # skaffold pushes a short name under a default repo (--default-repo): the manifest may name it in full.
    short = {"skaffold.yaml": SKAFFOLD.replace("example/app", "app"), "services/app/Dockerfile.prod": APP_UID_1000}
    assert _located(short, "registry.example.com/team/app:1.0") == ("services/app/Dockerfile.prod", "skaffold.yaml")


def test_compose_maps_a_service_build_with_its_image() -> None:
    files = {"docker-compose.yml": COMPOSE, "services/app/app.Dockerfile": APP_UID_1000}
    assert _located(files, "docker.io/example/app:2") == ("services/app/app.Dockerfile", "docker-compose.yml")
    without_image = "services:\n  app:\n    build: ./services/app\n"
    # compose names such an image after the project ("myproject-app"), which no manifest uses.
    assert build_index(["compose.yaml", "services/app/Dockerfile"], {"compose.yaml": without_image}).mappings == ()


def test_build_push_action_maps_tags_taken_from_metadata_action() -> None:
    files = {".github/workflows/ci.yml": WORKFLOW, "services/app/build/Dockerfile": APP_UID_1000}
    for reference in ("example/app:1.0", "ghcr.io/example/app:sha-1234"):
        assert _located(files, reference) == ("services/app/build/Dockerfile", ".github/workflows/ci.yml")


def test_build_push_action_with_literal_tags_and_the_default_file() -> None:
    workflow = (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: api\n"
        "          tags: ghcr.io/example/api:latest,ghcr.io/example/api:${{ github.sha }}\n"
    )
    files = {".github/workflows/build.yaml": workflow, "api/Dockerfile": APP_UID_1000}
    assert _located(files, "ghcr.io/example/api:v3") == ("api/Dockerfile", ".github/workflows/build.yaml")


def test_a_name_match_needs_exactly_one_directory_and_a_namespaced_image() -> None:
    assert _located({"services/app/Dockerfile": APP_UID_1000}, "ghcr.io/example/app:1") == (
        "services/app/Dockerfile",
        DIRECTORY_NAME,
    )
    two = {"a/app/Dockerfile": APP_UID_1000, "b/app/Dockerfile": APP_UID_1000}
    assert _located(two, "ghcr.io/example/app:1") is None
    # `mysql/Dockerfile` customises the official image; it does not build `mysql:9`.
    assert _located({"mysql/Dockerfile": "FROM mysql:9\n"}, "mysql:9") is None


def test_a_dockerfile_named_after_the_image_matches_like_its_directory() -> None:
    # istio keeps pkg/test/echo/docker/Dockerfile.app for its `app` image; kserve writes sklearn.Dockerfile.
    assert _located({"pkg/test/echo/docker/Dockerfile.app": APP_UID_1000}, "gcr.io/istio-testing/app:1") == (
        "pkg/test/echo/docker/Dockerfile.app",
        DIRECTORY_NAME,
    )
    assert _located({"python/sklearn.Dockerfile": APP_UID_1000}, "kserve/sklearn:v0.14") == (
        "python/sklearn.Dockerfile",
        DIRECTORY_NAME,
    )
    # A name held by a directory and by a file's suffix is two Dockerfiles: no match.
    both = {"app/Dockerfile": APP_UID_1000, "docker/Dockerfile.app": APP_UID_1000}
    assert _located(both, "ghcr.io/example/app:1") is None
    assert _located({"Dockerfile.template": APP_UID_1000}, "ghcr.io/example/template:1") is None


def test_two_stated_dockerfiles_for_one_image_mean_no_match() -> None:
    files = {
        "skaffold.yaml": SKAFFOLD,
        "services/app/Dockerfile.prod": APP_UID_1000,
        "docker-compose.yml": COMPOSE,
        "services/app/app.Dockerfile": APP_UID_1000,
    }
    assert _located(files, "example/app:1.0") is None


def test_a_base_image_built_in_the_repository_lends_its_env_and_user() -> None:
    knowledge = from_texts({"images/base-notebook/Dockerfile": BASE_NOTEBOOK}, ["quay.io/jupyter/base-notebook"])
    found = knowledge.find("quay.io/jupyter/base-notebook:2024-01-01")
    assert found is not None and (found.user, found.uid, found.non_root) == ("1000", 1000, True)
    child = (
        "ARG BASE_IMAGE=quay.io/jupyter/base-notebook\nFROM $BASE_IMAGE\nUSER root\n"
        "RUN apt-get update\nUSER ${NB_UID}\n"
    )
    files = {"images/base-notebook/Dockerfile": BASE_NOTEBOOK, "images/minimal-notebook/Dockerfile": child}
    minimal = from_texts(files, ["quay.io/jupyter/minimal-notebook"]).find("quay.io/jupyter/minimal-notebook")
    assert minimal is not None and (minimal.user, minimal.uid, minimal.dockerfile) == (
        "1000",
        1000,
        "images/minimal-notebook/Dockerfile",
    )


def test_ur102_is_quiet_over_a_base_built_non_root_and_names_the_dockerfile_of_a_root_one() -> None:
    assert not [f for f in analyze("r.dockerfile", NOTEBOOK_RECIPE) if f.rule != "UR102"]
    assert [
        f.rule for f in _findings({"images/base-notebook/Dockerfile": BASE_NOTEBOOK}, "r.dockerfile", NOTEBOOK_RECIPE)
    ] == []
    root_base = {"images/base-notebook/Dockerfile": "FROM ubuntu:24.04\n"}
    (finding,) = _findings(root_base, "r.dockerfile", NOTEBOOK_RECIPE)
    assert finding.rule == "UR102" and "(built by images/base-notebook/Dockerfile)" in finding.message


def test_a_dockerfile_that_customises_the_image_it_is_named_after_is_judged_by_the_public_image() -> None:
    files = {"images/app/Dockerfile": "FROM ghcr.io/example/app:1\nRUN true\n"}
    (finding,) = [f for f in _findings(files, "images/app/Dockerfile", files["images/app/Dockerfile"])]
    assert finding.rule == "UR102"


def _ur201(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "UR201"]


def test_a_numeric_non_root_image_is_a_warning_whose_fix_pins_its_uid() -> None:
    findings = _findings({"skaffold.yaml": SKAFFOLD, "services/app/Dockerfile.prod": APP_UID_1000})
    (finding,) = _ur201(findings)
    assert (finding.severity, finding.variant) == (Severity.WARNING, Ur201.IMAGE_NON_ROOT)
    assert "relies on the image (services/app/Dockerfile.prod runs it as USER 1000)" in finding.message
    fixed = apply(MANIFEST, [e for f in findings if f.fix for e in f.fix.edits])
    assert "runAsNonRoot: true" in fixed and "runAsUser: 1000" in fixed and "10001" not in fixed
    assert not _ur201(analyze("k8s/pod.yaml", fixed))  # pinned: true even without the knowledge


def test_a_named_user_with_a_stated_uid_gets_that_uid() -> None:
    (finding,) = _ur201(_findings({"app/Dockerfile": APP_NAMED}))
    assert finding.variant is Ur201.IMAGE_NON_ROOT and "USER app (UID 1000)" in finding.message
    assert finding.fix is not None and "runAsUser: 1000" in "".join(e.replacement for e in finding.fix.edits)


def test_a_named_user_without_a_uid_gets_no_fix_and_no_shared_runasnonroot() -> None:
    findings = _findings({"app/Dockerfile": APP_NAME_ONLY})
    (finding,) = _ur201(findings)
    assert (finding.severity, finding.variant, finding.fix) == (Severity.WARNING, Ur201.IMAGE_NAME_ONLY, None)
    assert "No fix offered" in finding.message
    # The other rules' edits of the pod's securityContext must not bring runAsNonRoot: true along.
    fixed = apply(MANIFEST, [e for f in findings if f.fix for e in f.fix.edits])
    assert "runAsNonRoot" not in fixed and "runAsUser" not in fixed


def test_without_knowledge_nothing_changes() -> None:
    (finding,) = _ur201(analyze("k8s/pod.yaml", MANIFEST))
    assert (finding.severity, finding.variant) == (Severity.ERROR, Ur201.IMAGE_USER)


def test_ur220_predicts_the_kubelets_refusal_and_fixes_it_with_the_known_uid() -> None:
    text = pod(RESTRICTED_CONTAINER, RESTRICTED_POD)
    (finding,) = [f for f in _findings({"app/Dockerfile": APP_NAMED}, text=text) if f.rule == "UR220"]
    assert finding.variant is Ur220.UID_KNOWN and "image has non-numeric user" in finding.message
    fixed = apply(text, list(finding.fix.edits) if finding.fix else [])
    assert "runAsUser: 1000" in fixed
    assert not [f for f in _findings({"app/Dockerfile": APP_NAMED}, text=fixed) if f.rule == "UR220"]
    (unknown,) = [f for f in _findings({"app/Dockerfile": APP_NAME_ONLY}, text=text) if f.rule == "UR220"]
    assert (unknown.variant, unknown.fix) == (Ur220.UID_UNKNOWN, None)


def test_options_with_knowledge_travel_to_analysis_workers() -> None:
    options = Options(knowledge=from_texts({"app/Dockerfile": APP_NAMED}, ["ghcr.io/example/app"]))
    assert pickle.loads(pickle.dumps(options)) == options
    hash(options)
