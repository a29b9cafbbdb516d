"""Text edits on a compose service: set a value, delete a key, add keys or list items, in the file's own style.

Each function plans its change on a Rewriter and returns False when no safe edit exists;
the caller turns the Rewriter into one LineEdit, so several changes to one service never overlap.
"""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from rules.compose.parse import Entry, Service
from rules.kubernetes.nodes import Rewriter, first_line, is_flow, last_line, quoted_keys
from rules.model import Fix


def quoted(text: str, like: ScalarNode | None = None) -> str:
    """`text` as a YAML string, in the quotes of `like` when it is single-quoted."""
    if like is not None and like.style == "'":
        return f"'{text}'"
    return f'"{text}"'


def replace_value(rewriter: Rewriter, entry: Entry, text: str) -> bool:
    """Replace exactly the characters of an entry's value."""
    rewriter.replace_span(entry.value, text)
    return True


def delete_entry(rewriter: Rewriter, service: Service, entry: Entry) -> bool:
    """Remove a key and its value from a block-style service; not in flow style, nor when it shares a line."""
    if is_flow(service.node):
        return False
    first, last = first_line(entry.key), last_line(entry.value)
    others = [key for key, _ in service.node.value if key is not entry.key]
    if any(first <= first_line(key) <= last for key in others):
        return False
    rewriter.delete_lines(first, last)
    return True


def add_entries(rewriter: Rewriter, service: Service, entries: list[tuple[str, str]]) -> bool:
    """Add `key: value` entries (values already written as YAML flow text) to a service: as lines
    right under its name in block style, just inside `{` in flow style."""
    node = service.node
    if not node.value or not entries:
        return False
    json = quoted_keys(node)
    pairs = [(f'"{key}"' if json else key, text) for key, text in entries]
    if is_flow(node):
        text = ", ".join(f"{key}: {item}" for key, item in pairs) + ", "
        rewriter.insert_at(first_line(node), int(node.start_mark.column) + 1, text)
        return True
    first_key = node.value[0][0]
    if first_line(first_key) == first_line(service.key):
        return False
    indent = " " * int(first_key.start_mark.column)
    rewriter.insert_lines_after(first_line(service.key), [f"{indent}{key}: {item}" for key, item in pairs])
    return True


def add_item(rewriter: Rewriter, entry: Entry, text: str) -> bool:
    """Put `text` (YAML flow text) first in an entry's list, in the list's style."""
    items = entry.value
    if not isinstance(items, SequenceNode):
        return False
    if is_flow(items):
        rewriter.insert_at(first_line(items), int(items.start_mark.column) + 1, text + (", " if items.value else ""))
        return True
    if not items.value or not isinstance(items.value[0], (ScalarNode, MappingNode)):
        return False
    first_item = items.value[0]
    line_text = rewriter.lines[first_line(first_item) - 1]
    dash = line_text.rfind("-", 0, int(first_item.start_mark.column))
    if dash < 0 or line_text[:dash].strip():
        return False  # the item does not start its own line (`- - x`, or after a key)
    rewriter.insert_lines_before(first_line(first_item), [line_text[:dash] + "- " + text])
    return True


def as_fix(rewriter: Rewriter, summary: str) -> Fix | None:
    """The planned changes as a fix, or None when nothing was planned."""
    edit = rewriter.edit()
    return Fix(summary, (edit,)) if edit else None
