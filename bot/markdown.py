"""Markdown building blocks for what the bot posts, with repository text made inert."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from rules.model import Severity

_BACKTICKS = re.compile(r"`+")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!|~])")
_MENTION = re.compile(r"([@#])(?=\w)")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")


def fence(content: str) -> str:
    """A backtick fence longer than any backtick run in `content` (at least three)."""
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    return "`" * max(3, longest + 1)


def block(language: str, content: str) -> str:
    """A fenced code block that `content` cannot close early."""
    ticks = fence(content)
    inner = content if content == "" or content.endswith("\n") else content + "\n"
    return f"{ticks}{language}\n{inner}{ticks}"


def defang(text: str) -> str:
    """Text from the repository (paths, container names) must not open an HTML comment: a
    planted `<!-- unroot:... -->` would pass for one of our fingerprint markers."""
    return text.replace("<!--", "<!\u200b--")


def inert(text: str) -> str:
    """Repository text (names, messages that quote them, fix summaries) as Markdown that renders
    as the same characters and does nothing: no HTML, link, image or emphasis, no @-mention or
    #-reference that would notify someone or link an issue in the bot's voice."""
    text = defang(text).replace("&", "&amp;")
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _MENTION.sub("\\1\u2060", text)  # a word joiner: shown as nothing, breaks the mention
    return _AUTOLINK.sub(lambda m: m.group(0).replace(":", ":\u2060").replace("www.", "www\u2060."), text)


def code(text: str) -> str:
    """Inline code that survives backticks and pipes inside `text`."""
    text = defang(text).replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def plural(count: int, word: str) -> str:
    """`1 file`, `2 files`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def severity_counts(severities: Iterable[Severity]) -> str:
    """`2 errors, 1 warning`: the severities present, most severe first."""
    counts = Counter(severities)
    order = (Severity.ERROR, Severity.WARNING, Severity.NOTICE)
    return ", ".join(plural(counts[s], s.value) for s in order if counts[s])
