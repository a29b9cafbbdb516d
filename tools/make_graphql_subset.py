"""Extract the GraphQL types and fields the fake GitHub serves from @octokit/graphql-schema into tests/data."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.npm_tarball import fetch_tarball, read_member

PACKAGE = "@octokit/graphql-schema"
MEMBER = "package/schema.json"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "github-graphql-subset.json"

# The object and interface types the fake serves, each with the fields it answers. Every field
# keeps GitHub's own arguments, types and nullability; enums, input objects and scalars they
# name come along whole. A kept type implements the kept interfaces it implements on GitHub,
# so each must have its interfaces' fields too (build() says which are missing).
# fmt: off
FIELDS: dict[str, tuple[str, ...]] = {
    "Query": ("repository", "node"),
    "Mutation": ("resolveReviewThread", "unresolveReviewThread", "minimizeComment"),
    "Node": ("id",),
    "Actor": ("login", "url", "avatarUrl"),
    "RepositoryOwner": ("id", "login"),
    "Comment": ("id", "body", "author", "createdAt"),
    "Minimizable": ("isMinimized", "minimizedReason", "viewerCanMinimize"),
    "GitObject": ("id", "oid", "abbreviatedOid", "repository"),
    "User": ("id", "login", "url", "avatarUrl"),
    "Organization": ("id", "login", "url", "avatarUrl"),
    "Bot": ("id", "login", "url", "avatarUrl"),
    "Repository": ("id", "databaseId", "name", "nameWithOwner", "owner", "isPrivate", "url", "pullRequest", "object"),
    "PullRequest": (
        "id", "databaseId", "number", "title", "body", "author", "createdAt", "state", "isDraft", "url",
        "headRefName", "headRefOid", "baseRefName", "baseRefOid", "reviewThreads", "reviews",
    ),
    "PullRequestReviewConnection": ("nodes", "edges", "pageInfo", "totalCount"),
    "PullRequestReviewEdge": ("node", "cursor"),
    "PullRequestReview": (
        "id", "databaseId", "fullDatabaseId", "body", "bodyText", "state", "author", "commit", "submittedAt",
        "createdAt", "url", "viewerDidAuthor", "pullRequest", "comments", "isMinimized", "minimizedReason",
        "viewerCanMinimize",
    ),
    "PullRequestReviewThreadConnection": ("nodes", "edges", "pageInfo", "totalCount"),
    "PullRequestReviewThreadEdge": ("node", "cursor"),
    "PullRequestReviewThread": (
        "id", "isResolved", "isOutdated", "isCollapsed", "path", "line", "originalLine", "startLine",
        "originalStartLine", "diffSide", "startDiffSide", "viewerCanResolve", "viewerCanUnresolve", "resolvedBy",
        "pullRequest", "comments",
    ),
    "PullRequestReviewCommentConnection": ("nodes", "edges", "pageInfo", "totalCount"),
    "PullRequestReviewCommentEdge": ("node", "cursor"),
    "PullRequestReviewComment": (
        "id", "databaseId", "fullDatabaseId", "body", "path", "line", "originalLine", "startLine", "diffHunk",
        "outdated", "url", "createdAt", "author", "viewerDidAuthor", "commit", "isMinimized", "minimizedReason",
        "viewerCanMinimize",
    ),
    "Blob": ("id", "oid", "abbreviatedOid", "repository", "byteSize", "isBinary", "isTruncated", "text"),
    "Tree": ("id", "oid", "abbreviatedOid", "repository", "entries"),
    "TreeEntry": ("name", "path", "type", "mode", "oid", "size", "extension", "object", "repository"),
    "Commit": (
        "id", "oid", "abbreviatedOid", "repository", "message", "messageHeadline", "authoredDate", "committedDate",
        "url", "tree",
    ),
    "Tag": ("id", "oid", "abbreviatedOid", "repository", "name", "message", "target"),
    "PageInfo": ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    "ResolveReviewThreadPayload": ("thread", "clientMutationId"),
    "UnresolveReviewThreadPayload": ("thread", "clientMutationId"),
    "MinimizeCommentPayload": ("minimizedComment", "clientMutationId"),
}
# fmt: on
DIRECTIVES = ("include", "skip", "deprecated")  # what a query may use; @include is in the bot's own


def named(type_ref: dict[str, Any]) -> str:
    """The named type inside a (possibly NON_NULL / LIST wrapped) type reference."""
    while type_ref.get("ofType") is not None:
        type_ref = type_ref["ofType"]
    return str(type_ref["name"])


def _bare(item: dict[str, Any]) -> dict[str, Any]:
    """An introspection entry without its description (the subset is a fixture, not documentation)."""
    return {**item, "description": None}


def _referenced(type_: dict[str, Any]) -> Iterator[str]:
    for holder in (type_.get("fields") or [], type_.get("inputFields") or []):
        for item in holder:
            yield named(item["type"])
            for arg in item.get("args") or []:
                yield named(arg["type"])


def build(schema: dict[str, Any], version: str) -> dict[str, Any]:
    """The subset: FIELDS' types pruned to their fields, plus every enum, input and scalar they reach."""
    types = {t["name"]: t for t in schema["types"]}
    problems: list[str] = []
    kept: dict[str, dict[str, Any]] = {}
    for name, wanted in FIELDS.items():
        real = types.get(name)
        if real is None or real["kind"] not in ("OBJECT", "INTERFACE"):
            problems.append(f"{name}: no such object or interface type")
            continue
        fields = {f["name"]: f for f in real["fields"]}
        missing = [f for f in wanted if f not in fields]
        problems += [f"{name}.{f}: no such field" for f in missing]
        kept[name] = {
            **_bare(real),
            "fields": [
                {**_bare(fields[f]), "args": [_bare(a) for a in fields[f]["args"]]} for f in wanted if f in fields
            ],
            "interfaces": [i for i in real.get("interfaces") or [] if i["name"] in FIELDS],
        }
    for name, type_ in kept.items():
        if type_["kind"] == "INTERFACE":
            type_["possibleTypes"] = [p for p in types[name].get("possibleTypes") or [] if p["name"] in FIELDS]
        own = {f["name"] for f in type_["fields"]}
        for interface in type_["interfaces"]:
            lacking = [f for f in FIELDS[interface["name"]] if f not in own]
            problems += [f"{name} implements {interface['name']} but lacks {f}" for f in lacking]
    directives = [
        {**_bare(d), "args": [_bare(a) for a in d["args"]]} for d in schema["directives"] if d["name"] in DIRECTIVES
    ]
    pending = [ref for type_ in kept.values() for ref in _referenced(type_)]
    pending += [named(arg["type"]) for directive in directives for arg in directive["args"]]
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        real = types[name]
        if real["kind"] in ("OBJECT", "INTERFACE", "UNION"):
            problems.append(f"{name}: a field returns it; add it to FIELDS or drop that field")
            continue
        kept[name] = {
            **_bare(real),
            "inputFields": [_bare(f) for f in real["inputFields"]]
            if real.get("inputFields")
            else real.get("inputFields"),
            "enumValues": [_bare(v) for v in real["enumValues"]] if real.get("enumValues") else real.get("enumValues"),
        }
        pending.extend(_referenced(kept[name]))
    if problems:
        raise SystemExit("the subset is not self-consistent:\n  " + "\n  ".join(problems))
    field_count = sum(len(t["fields"]) for t in kept.values() if t.get("fields"))
    return {
        "source": {
            "package": PACKAGE,
            "version": version,
            "file": MEMBER.removeprefix("package/"),
            "license": "MIT",
            "generated_by": "tools/make_graphql_subset.py",
            "note": f"Introspection of {len(FIELDS)} object/interface types ({field_count} fields) the fake serves, "
            "with GitHub's arguments, nullability, enums and input types; descriptions dropped. "
            "Load with graphql-core's build_client_schema({'__schema': ...}).",
        },
        "__schema": {
            "queryType": schema["queryType"],
            "mutationType": schema["mutationType"],
            "subscriptionType": None,
            "types": [kept[name] for name in sorted(kept)],
            "directives": directives,
        },
    }


def check(subset: dict[str, Any]) -> list[str]:
    """graphql-core's own schema validation of the subset (the whole published schema fails it)."""
    from graphql import build_client_schema, validate_schema

    return [error.message for error in validate_schema(build_client_schema({"__schema": subset["__schema"]}))]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default=PACKAGE, help="npm spec to pack, e.g. @octokit/graphql-schema@15.26.1")
    parser.add_argument("--tarball", type=Path, help="use an already downloaded npm tarball instead of npm pack")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch_tarball(args.package, Path(tmp))
        version = read_member(tarball, "package/package.json")["version"]
        schema = read_member(tarball, MEMBER)["__schema"]
    subset = build(schema, version)
    problems = check(subset)
    if problems:
        raise SystemExit("graphql-core rejects the subset:\n  " + "\n  ".join(problems))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(subset, indent=1) + "\n", encoding="utf-8")
    types = subset["__schema"]["types"]
    fields = sum(len(t["fields"]) for t in types if t.get("fields"))
    print(f"{args.output}: {PACKAGE} {version}, {len(types)} types, {fields} fields", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
