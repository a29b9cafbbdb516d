"""rules.helm.values_edit: values.yaml and template edits that keep every other byte."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from rules.fixes import apply, split_lines
from rules.helm.values_edit import REMOVE, insert_block, key_line, refusal, set_values
from rules.model import LineEdit

DATA = Path(__file__).parent / "data" / "helm_values"
RESTRICTED: dict[str, object] = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def excerpt(name: str) -> str:
    return (DATA / name).read_text()


def edited(text: str, path: tuple[str, ...], desired: Mapping[str, object]) -> str:
    edits = set_values(text, path, desired)
    assert edits is not None, refusal(text, path, desired)
    return apply(text, edits)


def load(text: str) -> object:
    return YAML(typ="safe").load(text)


def test_scaffold_empty_mapping_becomes_a_block_and_the_hints_stay() -> None:
    text = excerpt("helm-create.yaml")
    assert edited(text, ("securityContext",), RESTRICTED) == text.replace(
        "securityContext: {}\n",
        "securityContext:\n"
        "  runAsNonRoot: true\n"
        "  runAsUser: 10001\n"
        "  allowPrivilegeEscalation: false\n"
        "  capabilities:\n"
        "    drop:\n"
        "    - ALL\n"
        "  seccompProfile:\n"
        "    type: RuntimeDefault\n",
    )


def test_scaffold_pod_security_context() -> None:
    text = excerpt("helm-create.yaml")
    result = edited(text, ("podSecurityContext",), {"runAsNonRoot": True, "runAsUser": 10001})
    assert result.startswith("podSecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n  # fsGroup: 2000\n")
    assert result.endswith(text[text.index("\nsecurityContext: {}") :])


def test_bitnami_enabled_false_is_rewritten_in_place() -> None:
    text = excerpt("bitnami-nginx-metrics.yaml")
    result = edited(text, ("metrics", "securityContext"), {"enabled": True, "runAsUser": 1001, "runAsNonRoot": True})
    assert result == text.replace("    enabled: false\n", "    enabled: true\n").replace(
        "    runAsUser: 1001\n", "    runAsUser: 1001\n    runAsNonRoot: true\n"
    )


def test_equal_values_are_untouched_whatever_their_quoting() -> None:
    text = excerpt("bitnami-nginx.yaml")
    desired = {"runAsUser": 1001, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert set_values(text, ("containerSecurityContext",), desired) == ()


def test_new_keys_follow_the_last_entry_before_trailing_comments() -> None:
    text = excerpt("bitnami-nginx.yaml")
    result = edited(text, ("podSecurityContext",), {"runAsUser": 1001})
    assert result == text.replace("  sysctls: []\n", "  sysctls: []\n  runAsUser: 1001\n")


def test_nested_path_in_ingress_nginx() -> None:
    text = excerpt("ingress-nginx.yaml")
    result = edited(text, ("controller", "admissionWebhooks", "patch", "securityContext"), {"runAsUser": 65532})
    assert result == text.replace("      securityContext: {}\n", "      securityContext:\n        runAsUser: 65532\n")


def test_flow_list_replaced_in_place_in_traefik() -> None:
    text = excerpt("traefik.yaml")
    result = edited(text, ("securityContext",), {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
    # No block list in the file: lists are indented, as the Kubernetes docs write them.
    assert result == text.replace("    drop: [ALL]\n", "    drop: [ALL]\n    add:\n      - NET_BIND_SERVICE\n")
    replaced = edited(text, ("securityContext",), {"capabilities": {"drop": ["ALL", "NET_RAW"]}})
    assert replaced == text.replace("drop: [ALL]", "drop: [ALL, NET_RAW]")


def test_block_list_replaced_whole_in_the_files_list_style() -> None:
    text = "a:\n  drop:\n    - NET_RAW  # old\n  other: 1\n"
    assert edited(text, ("a",), {"drop": ["ALL"]}) == "a:\n  drop:\n    - ALL\n  other: 1\n"
    flat = "a:\n  drop:\n  - NET_RAW\nb:\n  c: 1\n"
    assert edited(flat, ("b",), {"d": ["ALL"]}) == "a:\n  drop:\n  - NET_RAW\nb:\n  c: 1\n  d:\n  - ALL\n"


def test_empty_mapping_followed_by_comments_at_column_zero() -> None:
    text = excerpt("prometheus-pushgateway.yaml")
    result = edited(text, ("containerSecurityContext",), {"allowPrivilegeEscalation": False})
    assert result == text.replace(
        "containerSecurityContext: {}\n", "containerSecurityContext:\n  allowPrivilegeEscalation: false\n"
    )
    assert load(result)["affinity"] == {}  # type: ignore[index]


def test_absent_paths_are_created_under_the_deepest_ancestor_or_after_the_last_key() -> None:
    # After the last entry, not after the comments that follow it: those are often its own
    # commented-out hints (`volumes: []` then `# - name: foo`).
    text = 'image:\n  tag: "1.0"\n# trailing\n'
    assert (
        edited(text, ("image", "sc", "x"), {"a": 1}) == 'image:\n  tag: "1.0"\n  sc:\n    x:\n      a: 1\n# trailing\n'
    )
    assert edited(text, ("sc",), {"a": 1}) == 'image:\n  tag: "1.0"\nsc:\n  a: 1\n# trailing\n'
    assert edited("# only comments\n", ("sc",), {"a": 1}) == "# only comments\nsc:\n  a: 1\n"


def test_remove_deletes_the_keys_lines() -> None:
    text = "sc:\n  enabled: true\n  seLinuxOptions:\n    level: s0\n  runAsUser: 0  # root\n"
    assert edited(text, ("sc",), {"seLinuxOptions": REMOVE, "missing": REMOVE}) == (
        "sc:\n  enabled: true\n  runAsUser: 0  # root\n"
    )


def test_scalar_rewrite_keeps_its_trailing_comment() -> None:
    text = "sc:\n  runAsUser: 0   # the app needs root?\n"
    assert edited(text, ("sc",), {"runAsUser": 10001}) == "sc:\n  runAsUser: 10001   # the app needs root?\n"


def test_crlf_file_keeps_its_line_endings() -> None:
    text = excerpt("helm-create.yaml").replace("\n", "\r\n")
    result = edited(text, ("securityContext",), {"runAsNonRoot": True})
    assert result == text.replace("securityContext: {}\r\n", "securityContext:\r\n  runAsNonRoot: true\r\n")


def test_missing_final_newline_stays_missing() -> None:
    assert edited("sc:\n  a: 1", ("sc",), {"b": 2}) == "sc:\n  a: 1\n  b: 2"
    assert edited("sc: {}", ("sc",), {"b": 2}) == "sc:\n  b: 2"
    assert edited("x: 1", ("sc",), {"b": 2}) == "x: 1\nsc:\n  b: 2"


def test_byte_order_mark_is_kept_and_not_counted_as_a_column() -> None:
    assert edited("\ufeffsc: {}  # x\nb: 1\n", ("sc",), {"a": 1}) == "\ufeffsc:  # x\n  a: 1\nb: 1\n"


def test_four_space_file() -> None:
    text = "pod:\n    spec:\n        x: 1\n    sc: {}\n"
    result = edited(text, ("pod", "sc"), {"capabilities": {"drop": ["ALL"]}})
    assert (
        result
        == "pod:\n    spec:\n        x: 1\n    sc:\n        capabilities:\n            drop:\n                - ALL\n"
    )


def test_null_value_is_filled_like_an_empty_mapping() -> None:
    assert edited("sc:\nother: 1\n", ("sc",), {"a": True}) == "sc:\n  a: true\nother: 1\n"
    assert edited("sc: ~  # none\n", ("sc",), {"a": True}) == "sc:  # none\n  a: true\n"


def test_one_line_flow_mapping_is_edited_in_flow_style() -> None:
    text = "sc: {runAsUser: 0, fsGroup: '1'}  # pod\nnext: 1\n"
    assert edited(text, ("sc",), {"runAsUser": 1000, "caps": {"drop": ["ALL"]}}) == (
        "sc: {runAsUser: 1000, fsGroup: '1', caps: {drop: [ALL]}}  # pod\nnext: 1\n"
    )
    assert edited(text, ("sc",), {"fsGroup": REMOVE}) == "sc: {runAsUser: 0}  # pod\nnext: 1\n"
    nested = "sc: {seccompProfile: {type: Unconfined}, a: 1}\n"
    assert edited(nested, ("sc", "seccompProfile"), {"type": "RuntimeDefault"}) == (
        "sc: {seccompProfile: {type: RuntimeDefault}, a: 1}\n"
    )
    assert set_values(text, ("sc",), {"runAsUser": 0}) == ()
    assert edited("{}\n", ("sc",), {"a": 1}) == "{sc: {a: 1}}\n"


def test_strings_are_quoted_only_when_needed() -> None:
    result = edited("sc: {}\n", ("sc",), {"a": "RuntimeDefault", "b": "yes", "c": "1000", "d": "a: b", "e": ""})
    assert result == 'sc:\n  a: RuntimeDefault\n  b: "yes"\n  c: "1000"\n  d: "a: b"\n  e: ""\n'


def test_key_line() -> None:
    text = excerpt("ingress-nginx.yaml")
    assert key_line(text, ("controller", "admissionWebhooks", "patch", "securityContext")) == 46
    assert key_line(text, ("controller", "admissionWebhooks", "nope", "x")) == 16
    assert key_line(text, ("absent",)) == 1
    assert key_line("- a\n- b\n", ("a",)) is None
    assert key_line("a: [\n", ("a",)) is None


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        ("base: &b\n  a: 1\nsc: *b\n", ("sc",), "anchor"),
        ("sc:\n  a: &b 1\nlast: *b\n", ("new",), "alias"),
        ("sc: !custom\n  a: 1\n", ("sc",), "tag"),
        ("a: 1\n---\nb: 2\n", ("a",), "several"),
        ("sc: {a: 1,\n  b: 2}\n", ("sc",), "flow"),
        ("sc: 5\n", ("sc",), "not a mapping"),
        ("sc:\n  - a\n", ("sc", "x"), "not a mapping"),
        ("- a\n", ("sc",), "not a mapping"),
        ("sc:\n  <<: {a: 1}\n  b: 2\n", ("sc",), "merge"),
        ("sc:\n  a: 1\n  a: 2\n", ("sc",), "twice"),
        ("sc:\n  only: 1\n", ("sc",), "null"),
        ("", ("sc",), "empty"),
    ],
)
def test_refusals(text: str, path: tuple[str, ...], reason: str) -> None:
    desired: dict[str, object] = {"only": REMOVE} if "only" in text else {"b": 3}
    assert set_values(text, path, desired) is None
    why = refusal(text, path, desired)
    assert why is not None and reason in why


def test_insert_block_in_a_template() -> None:
    template = "      containers:\n        - name: {{ .Chart.Name }}\n          image: x\n"
    edit = insert_block(template, 3, 10, "securityContext", RESTRICTED)
    assert edit == LineEdit(
        3,
        3,
        "          image: x\n"
        "          securityContext:\n"
        "            runAsNonRoot: true\n"
        "            runAsUser: 10001\n"
        "            allowPrivilegeEscalation: false\n"
        "            capabilities:\n"
        "              drop:\n"
        "                - ALL\n"
        "            seccompProfile:\n"
        "              type: RuntimeDefault\n",
    )
    with pytest.raises(ValueError):
        insert_block(template, 9, 2, "securityContext", RESTRICTED)


# --- property: the edit means exactly the deep merge, and touches only its lines ---------------

_KEYS = st.sampled_from(["a", "b", "c", "runAsUser", "drop", "x-y"])
_SCALARS = st.one_of(
    st.booleans(), st.integers(-5, 70000), st.none(), st.sampled_from(["ALL", "yes", "1.0", "a b", "", "x: y", "#h"])
)
_VALUES: st.SearchStrategy[object] = st.recursive(
    st.one_of(_SCALARS, st.builds(dict), st.builds(list)),  # fresh objects: no anchors in the dump
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3), st.dictionaries(_KEYS, inner, min_size=1, max_size=3)
    ),
    max_leaves=8,
)
_DESIRED: st.SearchStrategy[object] = st.recursive(
    st.one_of(_SCALARS, st.just(REMOVE), st.lists(_SCALARS, max_size=2)),
    lambda inner: st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=6,
)


def _dump(data: object, indent: int, flat_lists: bool, comment: bool, flow_leaves: bool = False) -> str:
    yaml = YAML()
    yaml.indent(mapping=indent, sequence=indent if flat_lists else indent + 2, offset=0 if flat_lists else indent)
    yaml.default_flow_style = None if flow_leaves else False  # None: innermost collections as {..} / [..]
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    if comment:
        # Trailing comments, and the scaffold's commented hints under every `{}`.
        text = "".join(
            line.rstrip("\n") + "  # note\n" + ("  # hint: 1\n" if line.endswith("{}\n") else "")
            if ": " in line
            else line
            for line in split_lines(text)
        )
    return text


def _merged(have: object, desired: Mapping[str, object]) -> dict[str, object]:
    result = dict(have) if isinstance(have, dict) else {}
    for key, wanted in desired.items():
        if wanted is REMOVE:
            result.pop(key, None)
        elif isinstance(wanted, Mapping):
            result[key] = _merged(result.get(key), wanted)
        else:
            result[key] = wanted
    return result


def _expected(data: dict[str, object], path: tuple[str, ...], desired: Mapping[str, object]) -> dict[str, object]:
    nested: Mapping[str, object] = desired
    for key in reversed(path):
        nested = {key: nested}
    return _merged(data, nested)


def _untouched_lines_kept(text: str, edits: tuple[LineEdit, ...], result: str) -> None:
    before = split_lines(text)
    after = split_lines(result)
    shift = 0  # lines the edits so far added (or removed) before the current one
    edited_lines = {number for edit in edits for number in range(edit.start_line, edit.end_line + 1)}
    for number, line in enumerate(before, start=1):
        edit = next((e for e in edits if e.start_line == number), None)
        if edit is not None:
            shift += len(split_lines(edit.replacement)) - (edit.end_line - edit.start_line + 1)
        if number not in edited_lines:
            assert after[number - 1 + shift] == line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=4),
    path=st.lists(_KEYS, max_size=3).map(tuple),
    desired=st.dictionaries(_KEYS, _DESIRED, max_size=4),
    indent=st.sampled_from([2, 4]),
    flat_lists=st.booleans(),
    comment=st.booleans(),
    flow_leaves=st.booleans(),
)
def test_edits_mean_the_deep_merge_and_keep_other_lines(
    data: dict[str, object],
    path: tuple[str, ...],
    desired: dict[str, object],
    indent: int,
    flat_lists: bool,
    comment: bool,
    flow_leaves: bool,
) -> None:
    text = _dump(data, indent, flat_lists, comment, flow_leaves)
    edits = set_values(text, path, desired)
    if edits is None:
        # Generated documents have no aliases, tags or multi-line flow mappings: only a path
        # through a scalar or list, or a mapping emptied to null, has no edit.
        why = refusal(text, path, desired)
        assert why is not None and ("not a mapping" in why or "null" in why), why
        return
    result = apply(text, edits)
    assert load(result) == _expected(data, path, desired), result
    _untouched_lines_kept(text, edits, result)
