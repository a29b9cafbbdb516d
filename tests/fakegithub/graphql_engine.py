"""GraphQL for the fake: graphql-core parses, validates and executes each query against GitHub's published schema.

What graphql-core does not know and GitHub does stays here as glue: GitHub's error shape
(a failed field's error carries a `type` such as NOT_FOUND; a query that does not validate
gets `errors` and no `data`, with graphql-ruby's `extensions.code`), the first/last <= 100
rules of connections, and what a GitObjectID looks like.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    StringValueNode,
    ValueNode,
    build_client_schema,
    execute,
    parse,
    validate,
)
from graphql.validation import (
    ASTValidationRule,
    FieldsOnCorrectTypeRule,
    KnownArgumentNamesRule,
    KnownDirectivesRule,
    KnownFragmentNamesRule,
    KnownTypeNamesRule,
    NoUndefinedVariablesRule,
    NoUnusedFragmentsRule,
    NoUnusedVariablesRule,
    OverlappingFieldsCanBeMergedRule,
    PossibleFragmentSpreadsRule,
    ProvidedRequiredArgumentsRule,
    ScalarLeafsRule,
    ValuesOfCorrectTypeRule,
    VariablesAreInputTypesRule,
    VariablesInAllowedPositionRule,
    specified_rules,
)

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "github-graphql-subset.json"
MAX_PAGE = 100  # GitHub's limit on `first` and `last` of every connection

# graphql-ruby's names for these validation failures (GitHub answers with them in extensions.code).
_RUBY_CODES: dict[type[ASTValidationRule], str] = {
    FieldsOnCorrectTypeRule: "undefinedField",
    KnownArgumentNamesRule: "argumentNotAccepted",
    ProvidedRequiredArgumentsRule: "missingRequiredArguments",
    ValuesOfCorrectTypeRule: "argumentLiteralsIncompatible",
    VariablesInAllowedPositionRule: "variableMismatch",
    ScalarLeafsRule: "selectionMismatch",
    KnownTypeNamesRule: "undefinedType",
    NoUnusedVariablesRule: "variableNotUsed",
    NoUndefinedVariablesRule: "variableNotDefined",
    VariablesAreInputTypesRule: "variableRequiresValidType",
    KnownFragmentNamesRule: "undefinedFragment",
    NoUnusedFragmentsRule: "useAndDefineFragment",
    PossibleFragmentSpreadsRule: "cannotSpreadFragment",
    OverlappingFieldsCanBeMergedRule: "fieldConflict",
    KnownDirectivesRule: "undefinedDirective",
}


class ResolveError(Exception):
    """An execution error on one field: it becomes null and the error is listed (type e.g. NOT_FOUND)."""

    def __init__(self, message: str, type_: str = "NOT_FOUND") -> None:
        super().__init__(message)
        self.message = message
        self.type = type_


def _object_id(value: Any) -> str:
    """A GitObjectID: GitHub refuses anything but a full hex SHA-1 before running the query."""
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}", value):
        return value
    raise GraphQLError(f"{json.dumps(value)} is not a valid GitObjectID (40 hexadecimal characters)")


def _object_id_literal(node: ValueNode, _variables: Any = None) -> str:
    return _object_id(node.value if isinstance(node, StringValueNode) else None)


@functools.cache
def github_schema(path: Path = SCHEMA_PATH) -> GraphQLSchema:
    """GitHub's GraphQL schema cut to what the fake serves (tests/data/github-graphql-subset.json), once a process.

    assume_valid: tools/make_graphql_subset.py validated the subset when it wrote it (the whole
    published schema would not pass: it breaks two interface-deprecation rules), so every
    process need not do it again.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    schema = build_client_schema({"__schema": document["__schema"]}, assume_valid=True)
    object_id = schema.type_map["GitObjectID"]
    assert isinstance(object_id, GraphQLScalarType)
    # Set as GraphQLScalarType's constructor sets them; 3.3 reads variables through coerce_input_value.
    object_id.parse_value = _object_id  # type: ignore[method-assign]
    object_id.parse_literal = _object_id_literal  # type: ignore[method-assign, assignment]
    if hasattr(object_id, "coerce_input_value"):
        object_id.coerce_input_value = _object_id
    return schema


def _coded(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """RULE, its errors carrying graphql-ruby's code for them, as GitHub's do."""
    code = _RUBY_CODES.get(rule)
    if code is None:
        return rule

    def report_error(self: ASTValidationRule, error: GraphQLError) -> None:
        error.extensions = {"code": code}
        rule.report_error(self, error)

    return type(rule.__name__, (rule,), {"report_error": report_error})


@functools.cache
def _rules() -> tuple[type[ASTValidationRule], ...]:
    return tuple(_coded(rule) for rule in specified_rules)


def resolve_field(source: Any, info: Any, **args: Any) -> Any:
    """The fake's objects are dicts holding each field's value, or a callable of its arguments.

    INFO is a GraphQLResolveInfo (generic from graphql-core 3.3 on, not before: hence Any).
    """
    value = source.get(info.field_name) if isinstance(source, Mapping) else None
    return value(args) if callable(value) else value


def _request_error(error: GraphQLError) -> dict[str, Any]:
    """A query that cannot run at all (syntax, validation, variables): message, locations, code."""
    shaped: dict[str, Any] = {"message": error.message}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.extensions:
        shaped["extensions"] = dict(error.extensions)
    return shaped


def _field_error(error: GraphQLError) -> dict[str, Any]:
    """A field that failed as GitHub's do (its `type` says why), or the fake's own bug, raised."""
    cause = error.original_error
    if not isinstance(cause, ResolveError):
        # Not an answer GitHub would give: the fake broke the schema (a null in a non-null
        # field, a value its type cannot hold) or crashed. Make it a 500 with a traceback.
        raise cause if cause is not None else error
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return {"type": cause.type, "path": error.path, "locations": locations, "message": cause.message}


async def run_query(
    query: str, variables: Mapping[str, Any] | None, operation_name: str | None, root: Mapping[str, Any]
) -> dict[str, Any]:
    """GitHub's answer to one GraphQL request: {"data", "errors"?}, or {"errors"} when it cannot run."""
    schema = github_schema()
    try:
        document = parse(query)
    except GraphQLError as error:
        return {"errors": [_request_error(error)]}
    invalid = validate(schema, document, _rules())
    if invalid:
        return {"errors": [_request_error(error) for error in invalid]}
    outcome = execute(
        schema,
        document,
        root_value=root,
        variable_values=dict(variables or {}),
        operation_name=operation_name,
        field_resolver=resolve_field,
    )
    result: ExecutionResult = await outcome if inspect.isawaitable(outcome) else outcome
    errors = result.errors or []
    if result.data is None and all(error.path is None for error in errors):
        return {"errors": [_request_error(error) for error in errors]}  # variables, operation name
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = [_field_error(error) for error in errors]
    return body


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _uncursor(cursor: Any, field_name: str) -> int:
    try:
        text = base64.b64decode(str(cursor)).decode()
        prefix, index = text.rsplit(":", 1)
        if prefix != "cursor:v2":
            raise ValueError(text)
        return int(index)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResolveError(f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS") from exc


def connection(items: Sequence[dict[str, Any]], args: Mapping[str, Any], name: str, edge_type: str, type_: str) -> Any:
    """A GitHub-style cursor connection over ITEMS (first/last required, at most 100)."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise ResolveError(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for label, n in (("first", first), ("last", last)):
        if n is not None and (n > MAX_PAGE or n < 0):
            raise ResolveError(
                f"Requesting {n} records on the `{name}` connection exceeds the `{label}` limit of 100 records.",
                "EXCESSIVE_PAGINATION",
            )
    start, stop = 0, len(items)
    if args.get("after") is not None:
        start = max(start, _uncursor(args["after"], name) + 1)
    if args.get("before") is not None:
        stop = min(stop, _uncursor(args["before"], name))
    start += int(args.get("skip") or 0)
    window = list(range(start, max(start, stop)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    has_next = bool(window) and window[-1] < stop - 1 if first is not None else stop < len(items)
    has_prev = bool(window) and window[0] > start if last is not None else start > 0
    return {
        "__typename": type_,
        "nodes": [items[i] for i in window],
        "edges": [{"__typename": edge_type, "node": items[i], "cursor": _cursor(i)} for i in window],
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
        "totalCount": len(items),
    }
