"""GraphQL parsing, validation and execution for the fake (hand-written; graphql-core replaces it)."""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast


class GraphQLError(Exception):
    """A query/validation error: the whole request fails with {"errors": [...]} and no data."""

    def __init__(self, message: str, *, path: list[str | int] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.extra = extra


class ResolveError(Exception):
    """An execution error on one field: it becomes null and the error is listed (type e.g. NOT_FOUND)."""

    def __init__(self, message: str, type_: str = "NOT_FOUND") -> None:
        super().__init__(message)
        self.message = message
        self.type = type_


@dataclass(frozen=True)
class Var:
    """A $variable reference in a query."""

    name: str


@dataclass(frozen=True)
class EnumValue:
    """A bare enum literal in a query."""

    name: str


@dataclass
class GField:
    """A field selection."""

    name: str
    alias: str | None
    args: dict[str, Any]
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any] | None
    line: int
    column: int

    @property
    def key(self) -> str:
        """The response key."""
        return self.alias or self.name


@dataclass
class GInline:
    """An inline fragment (`... on Type { }` or `... @include(if: $x) { }`)."""

    type_condition: str | None
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any]


@dataclass
class GSpread:
    """A named fragment spread."""

    name: str
    directives: list[tuple[str, dict[str, Any]]]


@dataclass
class GVarDef:
    """A variable definition of an operation."""

    name: str
    type: str
    default: Any
    has_default: bool


@dataclass
class GOperation:
    """An operation definition."""

    kind: str
    name: str | None
    variables: list[GVarDef]
    selections: list[Any]


@dataclass
class GFragment:
    """A fragment definition."""

    name: str
    type_condition: str
    selections: list[Any]


GQL_TOKEN = re.compile(
    r'(?P<ws>[\s,\ufeff]+|#[^\n]*)|(?P<block>"""(?:\\"""|[^"]|"(?!""))*""")|(?P<str>"(?:\\.|[^"\\\n])*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>\.\.\.|[!$()\:=@\[\]{}|&])"
)


class GraphQLParser:
    """A recursive-descent parser for GraphQL executable documents."""

    def __init__(self, source: str) -> None:
        self.tokens: list[tuple[str, str, int, int]] = []
        pos = 0
        line, line_start = 1, 0
        while pos < len(source):
            m = GQL_TOKEN.match(source, pos)
            if not m:
                raise GraphQLError(
                    f'Parse error on "{source[pos]}" at [{line}, {pos - line_start + 1}]',
                    locations=[{"line": line, "column": pos - line_start + 1}],
                )
            kind = cast(str, m.lastgroup)
            if kind != "ws":
                self.tokens.append((kind, m.group(), line, pos - line_start + 1))
            for nl in re.finditer("\n", m.group()):
                line += 1
                line_start = m.start() + nl.end()
            pos = m.end()
        self.i = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v, _, _ = self.tokens[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int, int]:
        if not self.peek(value, kind):
            if self.i >= len(self.tokens):
                raise GraphQLError("Parse error on end of input (expected " + (value or kind or "token") + ")")
            _, got, ln, col = self.tokens[self.i]
            raise GraphQLError(f'Parse error on "{got}" at [{ln}, {col}]', locations=[{"line": ln, "column": col}])
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def document(self) -> tuple[list[GOperation], dict[str, GFragment]]:
        ops: list[GOperation] = []
        frags: dict[str, GFragment] = {}
        if not self.tokens:
            raise GraphQLError("Parse error on end of input (expected a definition)")
        while self.i < len(self.tokens):
            if self.peek("{"):
                ops.append(GOperation("query", None, [], self.selection_set()))
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")[1]
                self.take("on")
                cond = self.take(kind="name")[1]
                self.directives()
                frags[name] = GFragment(name, cond, self.selection_set())
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.take()[1]
                op_name = self.take(kind="name")[1] if self.peek(kind="name") else None
                variables = self.variable_definitions() if self.peek("(") else []
                self.directives()
                ops.append(GOperation(kind, op_name, variables, self.selection_set()))
            else:
                self.take("{")
        return ops, frags

    def variable_definitions(self) -> list[GVarDef]:
        self.take("(")
        out: list[GVarDef] = []
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")[1]
            self.take(":")
            type_ = self.type_ref()
            default: Any = None
            has_default = False
            if self.peek("="):
                self.take()
                default, has_default = self.value(const=True), True
            self.directives()
            out.append(GVarDef(name, type_, default, has_default))
        self.take(")")
        return out

    def type_ref(self) -> str:
        if self.peek("["):
            self.take()
            inner = self.type_ref()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")[1]
        if self.peek("!"):
            self.take()
            text += "!"
        return text

    def directives(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        while self.peek("@"):
            self.take()
            name = self.take(kind="name")[1]
            out.append((name, self.arguments() if self.peek("(") else {}))
        return out

    def selection_set(self) -> list[Any]:
        self.take("{")
        out: list[Any] = []
        while not self.peek("}"):
            out.append(self.selection())
        self.take("}")
        if not out:
            raise GraphQLError("Parse error: empty selection set")
        return out

    def selection(self) -> Any:
        if self.peek("..."):
            self.take()
            if self.peek("on"):
                self.take()
                cond = self.take(kind="name")[1]
                return GInline(cond, self.directives(), self.selection_set())
            if self.peek(kind="name"):
                return GSpread(self.take()[1], self.directives())
            return GInline(None, self.directives(), self.selection_set())
        _, name, ln, col = self.take(kind="name")
        alias = None
        if self.peek(":"):
            self.take()
            alias, name = name, self.take(kind="name")[1]
        args = self.arguments() if self.peek("(") else {}
        directives = self.directives()
        selections = self.selection_set() if self.peek("{") else None
        return GField(name, alias, args, directives, selections, ln, col)

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        out: dict[str, Any] = {}
        while not self.peek(")"):
            name = self.take(kind="name")[1]
            self.take(":")
            out[name] = self.value()
        self.take(")")
        return out

    def value(self, const: bool = False) -> Any:
        if self.peek("$") and not const:
            self.take()
            return Var(self.take(kind="name")[1])
        if self.peek("["):
            self.take()
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if self.peek("{"):
            self.take()
            obj: dict[str, Any] = {}
            while not self.peek("}"):
                key = self.take(kind="name")[1]
                self.take(":")
                obj[key] = self.value(const)
            self.take("}")
            return obj
        kind, text, _, _ = self.take()
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "str":
            return json.loads(text)
        if kind == "block":
            return text[3:-3].replace('\\"""', '"""')
        if kind == "name":
            literals: dict[str, Any] = {"true": True, "false": False, "null": None}
            return literals[text] if text in literals else EnumValue(text)
        raise GraphQLError(f'Parse error on "{text}"')


@dataclass(frozen=True)
class FieldDef:
    """A field of an object type in the fake's GraphQL schema."""

    type: str  # "Type", "[Type]" for lists; scalars are leaf types
    args: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


def _f(type_: str, *args: str, required: Iterable[str] = ()) -> FieldDef:
    return FieldDef(type_, frozenset(args), frozenset(required))


CONN_ARGS = ("first", "last", "after", "before")
GQL_SCALARS = frozenset(
    {
        "ID",
        "String",
        "Int",
        "Boolean",
        "Float",
        "DateTime",
        "URI",
        "GitObjectID",
        "DiffSide",
        "HTML",
        "PullRequestReviewState",
    }
)
REVIEW_STATES = frozenset({"PENDING", "COMMENTED", "APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
GQL_INTERFACES: dict[str, frozenset[str]] = {
    "Node": frozenset(
        {
            "Repository",
            "PullRequest",
            "PullRequestReview",
            "PullRequestReviewThread",
            "PullRequestReviewComment",
            "Bot",
            "User",
            "Organization",
            "Blob",
            "Tree",
            "Commit",
            "Tag",
        }
    ),
    "Actor": frozenset({"Bot", "User"}),
    "Minimizable": frozenset({"PullRequestReviewComment"}),
    "Comment": frozenset({"PullRequestReview", "PullRequestReviewComment"}),
    "GitObject": frozenset({"Blob", "Tree", "Commit", "Tag"}),
    "RepositoryOwner": frozenset({"User", "Organization"}),
}
GQL_SCHEMA: dict[str, dict[str, FieldDef]] = {
    "Query": {
        "repository": _f("Repository", "owner", "name", "followRenames", required=("owner", "name")),
        "node": _f("Node", "id", required=("id",)),
        "viewer": _f("Actor"),
    },
    "Mutation": {
        "resolveReviewThread": _f("ResolveReviewThreadPayload", "input", required=("input",)),
        "unresolveReviewThread": _f("UnresolveReviewThreadPayload", "input", required=("input",)),
        "minimizeComment": _f("MinimizeCommentPayload", "input", required=("input",)),
    },
    "Node": {"id": _f("ID")},
    "Actor": {"login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "RepositoryOwner": {"id": _f("ID"), "login": _f("String")},
    "User": {"id": _f("ID"), "login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "Organization": {"id": _f("ID"), "login": _f("String")},
    "Bot": {"id": _f("ID"), "login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "Minimizable": {"isMinimized": _f("Boolean"), "minimizedReason": _f("String"), "viewerCanMinimize": _f("Boolean")},
    "Comment": {"id": _f("ID"), "body": _f("String"), "author": _f("Actor"), "createdAt": _f("DateTime")},
    "Repository": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "name": _f("String"),
        "nameWithOwner": _f("String"),
        "owner": _f("RepositoryOwner"),
        "isPrivate": _f("Boolean"),
        "url": _f("URI"),
        "pullRequest": _f("PullRequest", "number", required=("number",)),
        "object": _f("GitObject", "expression", "oid"),
    },
    "PullRequest": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "number": _f("Int"),
        "title": _f("String"),
        "state": _f("String"),
        "isDraft": _f("Boolean"),
        "url": _f("URI"),
        "headRefName": _f("String"),
        "headRefOid": _f("GitObjectID"),
        "baseRefName": _f("String"),
        "baseRefOid": _f("GitObjectID"),
        "reviewThreads": _f("PullRequestReviewThreadConnection", *CONN_ARGS),
        "reviews": _f("PullRequestReviewConnection", *CONN_ARGS, "author", "states"),
    },
    "PullRequestReviewConnection": {
        "nodes": _f("[PullRequestReview]"),
        "edges": _f("[PullRequestReviewEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewEdge": {"node": _f("PullRequestReview"), "cursor": _f("String")},
    "PullRequestReview": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "fullDatabaseId": _f("String"),
        "body": _f("String"),
        "bodyText": _f("String"),
        "state": _f("PullRequestReviewState"),
        "author": _f("Actor"),
        "commit": _f("Commit"),
        "submittedAt": _f("DateTime"),
        "createdAt": _f("DateTime"),
        "url": _f("URI"),
        "viewerDidAuthor": _f("Boolean"),
        "pullRequest": _f("PullRequest"),
        "comments": _f("PullRequestReviewCommentConnection", *CONN_ARGS),
    },
    "PullRequestReviewThreadConnection": {
        "nodes": _f("[PullRequestReviewThread]"),
        "edges": _f("[PullRequestReviewThreadEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewThreadEdge": {"node": _f("PullRequestReviewThread"), "cursor": _f("String")},
    "PullRequestReviewThread": {
        "id": _f("ID"),
        "isResolved": _f("Boolean"),
        "isOutdated": _f("Boolean"),
        "isCollapsed": _f("Boolean"),
        "path": _f("String"),
        "line": _f("Int"),
        "originalLine": _f("Int"),
        "startLine": _f("Int"),
        "originalStartLine": _f("Int"),
        "diffSide": _f("DiffSide"),
        "startDiffSide": _f("DiffSide"),
        "viewerCanResolve": _f("Boolean"),
        "viewerCanUnresolve": _f("Boolean"),
        "resolvedBy": _f("User"),
        "pullRequest": _f("PullRequest"),
        "comments": _f("PullRequestReviewCommentConnection", *CONN_ARGS, "skip"),
    },
    "PullRequestReviewCommentConnection": {
        "nodes": _f("[PullRequestReviewComment]"),
        "edges": _f("[PullRequestReviewCommentEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewCommentEdge": {"node": _f("PullRequestReviewComment"), "cursor": _f("String")},
    "PullRequestReviewComment": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "fullDatabaseId": _f("String"),
        "body": _f("String"),
        "path": _f("String"),
        "line": _f("Int"),
        "originalLine": _f("Int"),
        "startLine": _f("Int"),
        "diffHunk": _f("String"),
        "outdated": _f("Boolean"),
        "url": _f("URI"),
        "createdAt": _f("DateTime"),
        "author": _f("Actor"),
        "viewerDidAuthor": _f("Boolean"),
        "commit": _f("Commit"),
        "isMinimized": _f("Boolean"),
        "minimizedReason": _f("String"),
        "viewerCanMinimize": _f("Boolean"),
    },
    "GitObject": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
    },
    "Blob": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "byteSize": _f("Int"),
        "isBinary": _f("Boolean"),
        "isTruncated": _f("Boolean"),
        "text": _f("String"),
    },
    "Tree": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "entries": _f("[TreeEntry]"),
    },
    "TreeEntry": {
        "name": _f("String"),
        "path": _f("String"),
        "type": _f("String"),
        "mode": _f("Int"),
        "oid": _f("GitObjectID"),
        "size": _f("Int"),
        "extension": _f("String"),
        "object": _f("GitObject"),
        "repository": _f("Repository"),
    },
    "Commit": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "message": _f("String"),
        "messageHeadline": _f("String"),
        "authoredDate": _f("DateTime"),
        "committedDate": _f("DateTime"),
        "url": _f("URI"),
        "tree": _f("Tree"),
    },
    "Tag": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "name": _f("String"),
        "message": _f("String"),
        "target": _f("GitObject"),
    },
    "PageInfo": {
        "hasNextPage": _f("Boolean"),
        "hasPreviousPage": _f("Boolean"),
        "startCursor": _f("String"),
        "endCursor": _f("String"),
    },
    "ResolveReviewThreadPayload": {"thread": _f("PullRequestReviewThread"), "clientMutationId": _f("String")},
    "UnresolveReviewThreadPayload": {"thread": _f("PullRequestReviewThread"), "clientMutationId": _f("String")},
    "MinimizeCommentPayload": {"minimizedComment": _f("Minimizable"), "clientMutationId": _f("String")},
}


def _gql_base(type_: str) -> tuple[str, bool]:
    """("Type", is_list) of a field type."""
    return (type_[1:-1], True) if type_.startswith("[") else (type_, False)


def _possible(type_condition: str, concrete: str) -> bool:
    """Whether an object of CONCRETE type satisfies a fragment on TYPE_CONDITION."""
    return type_condition == concrete or concrete in GQL_INTERFACES.get(type_condition, frozenset())


class GraphQLExecutor:
    """Validates a document against GQL_SCHEMA and executes it over plain dict objects.

    Runtime objects are dicts with "__typename" and, per field, a value or a callable
    taking the field's (variable-substituted) arguments and returning the value or an
    awaitable of it. An optional "__prefetch__" callable gets [(field name, arguments)] of
    all the fields selected on the object before any is resolved (sync or async), so that
    a resolver can batch work, e.g. many aliased `object(expression:)` fields in one git call.
    Fields of one object are resolved one after the other (mutations must be serial anyway).
    """

    def __init__(self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None) -> None:
        ops, self.fragments = GraphQLParser(query).document()
        if operation_name is not None:
            chosen = [op for op in ops if op.name == operation_name]
            if not chosen:
                raise GraphQLError(f'Operation name "{operation_name}" not found')
        elif len(ops) > 1:
            raise GraphQLError("An operation name is required")
        else:
            chosen = ops
        if not chosen:
            raise GraphQLError("No operations in query document")
        self.operation = chosen[0]
        if self.operation.kind == "subscription":
            raise GraphQLError("Subscriptions are not supported")
        self.variables = self._variables(variables or {})
        self.errors: list[dict[str, Any]] = []
        self._validate(self.operation.selections, "Mutation" if self.operation.kind == "mutation" else "Query", [])

    @property
    def root_type(self) -> str:
        """Query or Mutation."""
        return "Mutation" if self.operation.kind == "mutation" else "Query"

    def _variables(self, given: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        declared = {v.name for v in self.operation.variables}
        used = set(self._used_vars(self.operation.selections, set()))
        name = self.operation.name or "anonymous query"
        for var in sorted(used - declared):
            raise GraphQLError(f"Variable ${var} is used by {name} but not declared")
        for v in self.operation.variables:
            if v.name not in used:
                raise GraphQLError(f"Variable ${v.name} is declared by {name} but not used")
            if v.name in given:
                out[v.name] = given[v.name]
            elif v.has_default:
                out[v.name] = v.default
            elif v.type.endswith("!"):
                raise GraphQLError(f"Variable ${v.name} of type {v.type} was provided invalid value")
            else:
                out[v.name] = None
            if v.type.endswith("!") and out[v.name] is None:
                raise GraphQLError(f"Variable ${v.name} of type {v.type} was provided invalid value")
        return out

    def _used_vars(self, selections: list[Any], seen: set[str]) -> Iterable[str]:
        def in_value(value: Any) -> Iterable[str]:
            if isinstance(value, Var):
                yield value.name
            elif isinstance(value, list):
                for item in value:
                    yield from in_value(item)
            elif isinstance(value, dict):
                for item in value.values():
                    yield from in_value(item)

        for sel in selections:
            for _, dargs in sel.directives:
                yield from in_value(dargs)
            if isinstance(sel, GField):
                yield from in_value(sel.args)
                if sel.selections:
                    yield from self._used_vars(sel.selections, seen)
            elif isinstance(sel, GInline):
                yield from self._used_vars(sel.selections, seen)
            elif isinstance(sel, GSpread) and sel.name not in seen and sel.name in self.fragments:
                seen.add(sel.name)
                yield from self._used_vars(self.fragments[sel.name].selections, seen)

    def _validate(self, selections: list[Any], type_: str, path: list[str | int]) -> None:
        fields = GQL_SCHEMA[type_]
        for sel in selections:
            if isinstance(sel, GSpread):
                if sel.name not in self.fragments:
                    raise GraphQLError(f"Fragment {sel.name} was used, but not defined")
                frag = self.fragments[sel.name]
                self._check_type_condition(frag.type_condition, type_)
                self._validate(frag.selections, frag.type_condition, path)
                continue
            if isinstance(sel, GInline):
                cond = sel.type_condition or type_
                self._check_type_condition(cond, type_)
                self._validate(sel.selections, cond, path)
                continue
            if sel.name == "__typename":
                continue
            where = [*path, sel.key]
            loc = [{"line": sel.line, "column": sel.column}]
            if sel.name not in fields:
                raise GraphQLError(
                    f"Field '{sel.name}' doesn't exist on type '{type_}'",
                    path=where,
                    locations=loc,
                    extensions={"code": "undefinedField", "typeName": type_, "fieldName": sel.name},
                )
            fdef = fields[sel.name]
            for arg in sel.args:
                if arg not in fdef.args:
                    raise GraphQLError(
                        f"Field '{sel.name}' doesn't accept argument '{arg}'",
                        path=where,
                        locations=loc,
                        extensions={"code": "argumentNotAccepted", "name": sel.name, "argumentName": arg},
                    )
            missing = sorted(fdef.required - set(sel.args))
            if missing:
                raise GraphQLError(
                    f"Field '{sel.name}' is missing required arguments: {', '.join(missing)}",
                    path=where,
                    locations=loc,
                )
            base, _ = _gql_base(fdef.type)
            if base in GQL_SCALARS:
                if sel.selections is not None:
                    raise GraphQLError(
                        f"Selections can't be made on scalars (field '{sel.name}' returns {base} but has selections)",
                        path=where,
                        locations=loc,
                    )
            else:
                if sel.selections is None:
                    raise GraphQLError(
                        f"Field must have selections (field '{sel.name}' returns {base} but has no selections. "
                        f"Did you mean '{sel.name} {{ ... }}'?)",
                        path=where,
                        locations=loc,
                    )
                self._validate(sel.selections, base, where)

    @staticmethod
    def _check_type_condition(cond: str, parent: str) -> None:
        if cond not in GQL_SCHEMA:
            raise GraphQLError(f"No such type {cond}, so it can't be a fragment condition")
        overlap = (
            cond == parent
            or parent in GQL_INTERFACES.get(cond, frozenset())
            or cond in GQL_INTERFACES.get(parent, frozenset())
            or bool(GQL_INTERFACES.get(cond, frozenset()) & GQL_INTERFACES.get(parent, frozenset()))
        )
        if not overlap:
            raise GraphQLError(f"Fragment on {cond} can't be spread inside {parent}")

    def _arg(self, value: Any) -> Any:
        if isinstance(value, Var):
            return self.variables.get(value.name)
        if isinstance(value, EnumValue):
            return value.name
        if isinstance(value, list):
            return [self._arg(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        return value

    def _included(self, directives: list[tuple[str, dict[str, Any]]]) -> bool:
        for name, args in directives:
            cond = bool(self._arg(args.get("if")))
            if (name == "include" and not cond) or (name == "skip" and cond):
                return False
        return True

    async def execute(self, root: dict[str, Any]) -> dict[str, Any]:
        """The response body: {"data": ...} plus "errors" when a field failed to resolve."""
        data = await self._object(self.operation.selections, root, [])
        body: dict[str, Any] = {"data": data}
        if self.errors:
            body["errors"] = self.errors
        return body

    def _collect(self, selections: list[Any], typename: str) -> list[GField]:
        out: list[GField] = []
        for sel in selections:
            if not self._included(sel.directives):
                continue
            if isinstance(sel, GField):
                out.append(sel)
            elif isinstance(sel, GInline):
                if sel.type_condition is None or _possible(sel.type_condition, typename):
                    out.extend(self._collect(sel.selections, typename))
            else:
                frag = self.fragments[sel.name]
                if _possible(frag.type_condition, typename):
                    out.extend(self._collect(frag.selections, typename))
        return out

    def _merged(self, fields: list[GField]) -> list[GField]:
        """FIELDS with those of one response key merged (their sub-selections joined), as GraphQL does."""
        by_key: dict[str, GField] = {}
        for sel in fields:
            prev = by_key.get(sel.key)
            if prev is None:
                by_key[sel.key] = sel
                continue
            if prev.name != sel.name or self._arg(prev.args) != self._arg(sel.args):
                raise GraphQLError(
                    f"Field '{sel.key}' has a field conflict: {prev.name} or {sel.name}?"
                    if prev.name != sel.name
                    else f"Field '{sel.key}' has an argument conflict",
                    locations=[{"line": prev.line, "column": prev.column}, {"line": sel.line, "column": sel.column}],
                )
            if prev.selections is not None and sel.selections is not None:
                by_key[sel.key] = dataclasses.replace(prev, selections=[*prev.selections, *sel.selections])
        return list(by_key.values())

    async def _object(self, selections: list[Any], obj: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
        typename = cast(str, obj["__typename"])
        out: dict[str, Any] = {}
        fields = self._merged(self._collect(selections, typename))
        prefetch = obj.get("__prefetch__")
        if callable(prefetch):
            pending = prefetch(
                [
                    (sel.name, {k: self._arg(v) for k, v in sel.args.items()})
                    for sel in fields
                    if sel.name != "__typename"
                ]
            )
            if inspect.isawaitable(pending):
                await pending
        for sel in fields:
            where = [*path, sel.key]
            if sel.name == "__typename":
                out[sel.key] = typename
                continue
            fdef = GQL_SCHEMA[typename][sel.name]
            raw = obj.get(sel.name)
            try:
                value = raw({k: self._arg(v) for k, v in sel.args.items()}) if callable(raw) else raw
                if inspect.isawaitable(value):
                    value = await value
            except ResolveError as exc:
                self.errors.append(
                    {
                        "type": exc.type,
                        "path": where,
                        "locations": [{"line": sel.line, "column": sel.column}],
                        "message": exc.message,
                    }
                )
                value = None
            out[sel.key] = await self._complete(fdef, sel, value, where)
        return out

    async def _complete(self, fdef: FieldDef, sel: GField, value: Any, path: list[str | int]) -> Any:
        if value is None or sel.selections is None:
            return value
        _, is_list = _gql_base(fdef.type)
        if is_list:
            return [
                None if item is None else await self._object(sel.selections, item, [*path, i])
                for i, item in enumerate(value)
            ]
        return await self._object(sel.selections, value, path)


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
        if n is not None and (not isinstance(n, int) or n > 100 or n < 0):
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
