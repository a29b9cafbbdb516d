"""Extract the request/response schemas the bot's GitHub calls use from @octokit/openapi into tests/data."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools.npm_tarball import fetch_tarball, read_member

PACKAGE = "@octokit/openapi"
MEMBER = "package/generated/api.github.com.json"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "openapi-subset.json"

# (method, path, kind): "request" keeps the JSON request body, "response" the 2xx JSON body.
OPERATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("post", "/app/installations/{installation_id}/access_tokens", ("request", "response")),
    ("get", "/app", ("response",)),
    ("post", "/app-manifests/{code}/conversions", ("response",)),
    ("get", "/repos/{owner}/{repo}/installation", ("response",)),
    ("get", "/repos/{owner}/{repo}", ("response",)),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}", ("response",)),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/files", ("response",)),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}", ("response",)),
    ("get", "/repos/{owner}/{repo}/contents/{path}", ("response",)),
    ("get", "/repos/{owner}/{repo}/git/blobs/{file_sha}", ("response",)),
    ("get", "/repos/{owner}/{repo}/git/trees/{tree_sha}", ("response",)),
    ("post", "/repos/{owner}/{repo}/check-runs", ("request", "response")),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}", ("request", "response")),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}", ("response",)),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", ("response",)),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs", ("response",)),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", ("request", "response")),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", ("response",)),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/comments", ("response",)),
)

# Annotation keywords that do not constrain an instance: dropped to keep the file small.
DROPPED = frozenset({"description", "example", "examples", "title", "externalDocs", "discriminator", "deprecated"})
SCHEMA_MAPS = ("properties", "patternProperties")  # keyword -> {name: schema}
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")  # keyword -> [schema]
SCHEMA_ONE = ("items", "additionalProperties", "not")  # keyword -> schema (or bool)


def clean(schema: Any) -> Any:
    """Drop annotations and turn OpenAPI 3.0 `nullable` into JSON Schema (draft 4) terms."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED or key.startswith("x-") or key == "nullable":
            continue
        if key in SCHEMA_MAPS:
            out[key] = {name: clean(sub) for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = [clean(sub) for sub in value]
        elif key in SCHEMA_ONE:
            out[key] = clean(value)
        else:
            out[key] = value
    if schema.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def refs(node: Any) -> Iterable[str]:
    """Names of the component schemas a (cleaned) schema refers to directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            prefix = "#/components/schemas/"
            if not ref.startswith(prefix):
                raise SystemExit(f"unsupported $ref {ref}")
            yield ref[len(prefix) :]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow a `#/components/...` reference (responses and request bodies may be refs)."""
    while isinstance(node, dict) and "$ref" in node and not node["$ref"].startswith("#/components/schemas/"):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def json_body(document: dict[str, Any], holder: Any) -> Any:
    """The application/json schema of a request body or response, or None."""
    holder = resolve(document, holder)
    content = holder.get("content", {}) if isinstance(holder, dict) else {}
    media = content.get("application/json")
    return None if media is None else clean(media["schema"])


def build(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The subset: per operation its request and/or 2xx response schema, and the components they need."""
    requests: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    for method, path, kinds in OPERATIONS:
        operation = document["paths"][path][method]
        op_id = operation["operationId"]
        if "request" in kinds:
            body = operation.get("requestBody")
            schema = json_body(document, body) if body is not None else None
            if schema is None:
                raise SystemExit(f"{op_id}: no JSON request body")
            requests[op_id] = {
                "method": method.upper(),
                "path": path,
                "required": bool(resolve(document, body).get("required", False)),
                "schema": schema,
            }
        if "response" in kinds:
            found = [
                (code, json_body(document, r)) for code, r in operation["responses"].items() if code.startswith("2")
            ]
            code, schema = next((c, s) for c, s in found if s is not None)
            responses[op_id] = {"method": method.upper(), "path": path, "status": int(code), "schema": schema}
    wanted: dict[str, Any] = {}
    pending = [name for part in (requests, responses) for name in refs(part)]
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted[name] = clean(document["components"]["schemas"][name])
        pending.extend(refs(wanted[name]))
    return {
        "source": {
            "package": PACKAGE,
            "version": version,
            "file": MEMBER.removeprefix("package/"),
            "openapi": document.get("openapi"),
            "license": "MIT",
            "generated_by": "tools/make_openapi_subset.py",
            "note": "Annotations dropped; OpenAPI 3.0 'nullable' rewritten as JSON Schema draft 4 types. "
            "Validate with Draft4Validator on the whole document, ref '#/requests/<operationId>/schema'.",
        },
        "requests": requests,
        "responses": responses,
        "components": {"schemas": dict(sorted(wanted.items()))},
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default=PACKAGE, help="npm spec to pack, e.g. @octokit/openapi@23.0.2")
    parser.add_argument("--tarball", type=Path, help="use an already downloaded npm tarball instead of npm pack")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch_tarball(args.package, Path(tmp))
        version = read_member(tarball, "package/package.json")["version"]
        document = read_member(tarball, MEMBER)
    subset = build(document, version)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(
        f"{args.output}: {PACKAGE} {version}, {len(subset['requests'])} request and "
        f"{len(subset['responses'])} response schemas, {len(subset['components']['schemas'])} components",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
