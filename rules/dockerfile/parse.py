"""Dockerfile text -> build stages of instructions with 1-based lines.

dockerfile-parse does the instruction splitting (continuations, comments, case);
this module adds what it lacks: BuildKit heredoc bodies are data, stages and their
inheritance, variable expansion from ARG/ENV defaults, and suppression comments.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rules.suppression import ignored_by_comment

_HEREDOC_INSTRUCTIONS = ("RUN", "COPY", "ADD")
_HEREDOC_MARKER = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_INSTRUCTION_START = re.compile(r"^\s*([A-Za-z]+)\b")
_ESCAPE_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*([\\`])\s*$", re.IGNORECASE)
MAX_VALUE = 65_536  # longest expanded ARG/ENV value we keep; longer ones count as unknown


@dataclass(frozen=True)
class Instruction:
    """One instruction; `value` has continuations joined, `heredocs` holds bodies."""

    keyword: str
    value: str
    start_line: int
    end_line: int
    heredocs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    index: int
    base: str  # the FROM image or stage name, variables expanded where known
    alias: str | None
    from_line: int
    instructions: tuple[Instruction, ...]
    parent: int | None  # index of the earlier stage this one is built FROM
    global_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile."""

    stages: tuple[Stage, ...]
    lines: tuple[str, ...]  # the file's lines without line endings
    suppressions: dict[int, frozenset[str]]  # instruction start line -> rule IDs
    open_at_end: bool = False  # the last instruction's line continuation runs past the end of the file

    @property
    def final(self) -> Stage | None:
        """The stage `docker build` produces by default."""
        return self.stages[-1] if self.stages else None

    def chain(self, stage: Stage) -> list[Stage]:
        """`stage` and the stages it inherits from, oldest first."""
        seen: list[Stage] = [stage]
        while seen[0].parent is not None and len(seen) <= len(self.stages):
            seen.insert(0, self.stages[seen[0].parent])
        return seen


def _mask_heredocs(lines: list[str]) -> tuple[list[str], dict[int, list[str]]]:
    """Blank out heredoc bodies so the parser sees no instructions in them.

    Returns the masked lines and, per 0-based line that opened heredocs, their bodies.
    """
    masked = list(lines)
    bodies: dict[int, list[str]] = {}
    index = 0
    in_heredoc_instruction = False
    while index < len(lines):
        line = lines[index]
        start = _INSTRUCTION_START.match(line)
        if start and not in_heredoc_instruction:
            in_heredoc_instruction = start.group(1).upper() in _HEREDOC_INSTRUCTIONS
        markers = _HEREDOC_MARKER.findall(line) if in_heredoc_instruction else []
        continued = line.rstrip().endswith("\\")
        if not continued:
            in_heredoc_instruction = False
        opener = index
        index += 1
        for strip_tabs, _quote, delimiter in markers:
            body: list[str] = []
            while index < len(lines):
                candidate = lines[index].lstrip("\t") if strip_tabs else lines[index]
                masked[index] = ""
                index += 1
                if candidate == delimiter:
                    break
                body.append(candidate)
            bodies.setdefault(opener, []).append("\n".join(body))
    return masked, bodies


def _heredoc_owner(bodies: dict[int, list[str]], start: int, end: int) -> tuple[str, ...]:
    """Heredoc bodies opened on 0-based lines start..end."""
    found: list[str] = []
    for line in range(start, end + 1):
        found.extend(bodies.get(line, ()))
    return tuple(found)


MAX_NESTING = 32  # `${A:-${B:-…}}` deeper than this is not a value a person wrote: unknown


class _Unknown(Exception):
    """The value cannot be known statically (unknown variable, unclosed `${`, too deep)."""


def expand(value: str, variables: dict[str, str]) -> str | None:
    """Expand `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+w}`, `${X+w}`, words nested as Docker's own
    lexer nests them; None when a variable is unknown, a `${` is unclosed, or the result is huge.

    One pass over the text (each character is read once), so hostile nesting costs linear time."""
    try:
        result, _end = _expand_word(value, 0, variables, 0, skip=False)
    except _Unknown:
        return None
    # A chain of ARGs that double each other would otherwise grow without bound (an ARG bomb).
    return None if len(result) > MAX_VALUE else result


def _name_end(text: str, start: int) -> int:
    end = start
    if end < len(text) and (text[end].isascii() and (text[end].isalpha() or text[end] == "_")):
        end += 1
        while end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
            end += 1
    return end


def _expand_word(text: str, pos: int, variables: dict[str, str], depth: int, *, skip: bool) -> tuple[str, int]:
    """Expand from `pos` to the end of the text (depth 0) or to the `}` that closes the enclosing
    `${` (depth > 0, the position returned is just past it). With `skip`, only find that end: the
    word is not used, so its unknown variables do not matter and nothing is built."""
    out: list[str] = []
    size = 0
    while pos < len(text):
        char = text[pos]
        if char == "}" and depth > 0:
            return "".join(out), pos + 1
        if char != "$":
            chunk_end = pos + 1
            while chunk_end < len(text) and text[chunk_end] != "$" and not (depth and text[chunk_end] == "}"):
                chunk_end += 1
            piece, pos = text[pos:chunk_end], chunk_end
        elif text.startswith("${", pos):
            piece, pos = _expand_braced(text, pos + 2, variables, depth, skip=skip)
        else:
            name_end = _name_end(text, pos + 1)
            if name_end == pos + 1:
                piece, pos = "$", pos + 1  # a lone `$` is literal
            else:
                current = variables.get(text[pos + 1 : name_end])
                if current is None and not skip:
                    raise _Unknown
                piece, pos = current or "", name_end
        if skip:
            continue
        out.append(piece)
        size += len(piece)
        if size > MAX_VALUE:
            raise _Unknown
    if depth > 0:
        raise _Unknown  # `${` never closed: Docker refuses the build
    return "".join(out), pos


def _expand_braced(text: str, pos: int, variables: dict[str, str], depth: int, *, skip: bool) -> tuple[str, int]:
    """`${NAME}` or `${NAME<op>word}` starting just after `${`."""
    if depth >= MAX_NESTING:
        raise _Unknown
    name_end = _name_end(text, pos)
    if name_end == pos:
        raise _Unknown  # `${` without a name is a build error
    current = variables.get(text[pos:name_end])
    pos = name_end
    if text.startswith("}", pos):
        if current is None and not skip:
            raise _Unknown
        return current or "", pos + 1
    operator = next((op for op in (":-", ":+", "-", "+") if text.startswith(op, pos)), None)
    if operator is None:
        raise _Unknown  # other modifiers (`:?`, `#`, `%`) are not evaluated here
    is_set = current is not None and (current != "" or not operator.startswith(":"))
    uses_word = not is_set if operator.endswith("-") else is_set
    word, pos = _expand_word(text, pos + len(operator), variables, depth + 1, skip=skip or not uses_word)
    if uses_word:
        return word, pos
    return (current or "") if operator.endswith("-") else "", pos


def _assignments(keyword: str, value: str) -> list[tuple[str, str | None]]:
    """Names and defaults that an ARG or ENV instruction defines."""
    words = value.split(None, 1)
    if not words:
        return []  # `ENV` or `ARG` with nothing after it: Docker refuses it; it defines nothing
    if keyword == "ENV" and "=" not in words[0]:
        return [(words[0], words[1] if len(words) > 1 else "")]  # legacy `ENV NAME value`
    result: list[tuple[str, str | None]] = []
    for token in re.findall(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""", value):
        name, eq, default = token.partition("=")
        result.append((name, default.strip("\"'") if eq else None))
    return result


def _apply(instruction: Instruction, variables: dict[str, str], global_args: dict[str, str]) -> None:
    """Update `variables` with what an ARG or ENV instruction defines (unknown values are dropped)."""
    if instruction.keyword not in ("ARG", "ENV"):
        return
    for name, raw in _assignments(instruction.keyword, instruction.value):
        if instruction.keyword == "ARG" and raw is None:
            if name in global_args:
                variables[name] = global_args[name]
            continue
        expanded = expand(raw or "", variables)
        if expanded is None:
            variables.pop(name, None)
        else:
            variables[name] = expanded


def walk(stage: Stage) -> Iterator[tuple[Instruction, dict[str, str]]]:
    """Each instruction with the variables in effect before it (one pass; do not keep the dict)."""
    variables = dict(stage.global_args)
    for instruction in stage.instructions:
        yield instruction, variables
        _apply(instruction, variables, stage.global_args)


def image_env(chain: list[Stage], inherited: dict[str, str] | None = None) -> dict[str, str]:
    """The ENV values the image built by `chain` carries (those of `inherited`, its base image's,
    overridden by its own), where they are known; build arguments are not part of an image."""
    env = dict(inherited or {})
    for stage in chain:
        for instruction, variables in walk(stage):
            if instruction.keyword != "ENV":
                continue
            for name, raw in _assignments("ENV", instruction.value):
                expanded = expand(raw or "", {**env, **variables})
                if expanded is None:
                    env.pop(name, None)
                else:
                    env[name] = expanded
    return env


def _parse_from(value: str, global_args: dict[str, str]) -> tuple[str, str | None]:
    """Image (expanded) and alias of a FROM value, skipping flags like --platform."""
    tokens = [t for t in value.split() if not t.startswith("--")]
    if not tokens:
        return "", None
    image = expand(tokens[0], global_args) or tokens[0]
    alias = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
    return image, alias


def parse(text: str) -> Dockerfile:
    """Parse Dockerfile text; never raises on odd input, it just finds fewer stages."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    masked, bodies = _mask_heredocs(lines)
    masked, open_at_end = _close_final_continuation(masked)
    # Imported here: it brings in `logging`, which a check of manifests alone does not need.
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO("\n".join(masked).encode("utf-8")), env_replace=False)
    structure = parser.structure

    stages: list[Stage] = []
    global_args: dict[str, str] = {}
    suppressions: dict[int, frozenset[str]] = {}
    pending_suppression: set[str] = set()
    current: list[Instruction] = []
    header: tuple[str, str | None, int, int | None] | None = None
    aliases: dict[str, int] = {}

    def close_stage() -> None:
        if header is None:
            return
        base, alias, from_line, parent = header
        stages.append(Stage(len(stages), base, alias, from_line, tuple(current), parent, dict(global_args)))

    for item in structure:
        keyword = str(item["instruction"]).upper()
        start, end = int(item["startline"]) + 1, int(item["endline"]) + 1
        value = str(item["value"])
        if keyword == "COMMENT":
            pending_suppression.update(ignored_by_comment(value))
            continue
        if pending_suppression:
            suppressions[start] = frozenset(pending_suppression)
            pending_suppression = set()
        instruction = Instruction(keyword, value, start, end, _heredoc_owner(bodies, start - 1, end - 1))
        if keyword == "FROM":
            close_stage()
            current = []
            image, alias = _parse_from(value, global_args)
            parent_index: int | None = aliases.get(image.lower())
            if parent_index is None and image.isascii() and image.isdigit() and int(image) < len(stages):
                parent_index = int(image)
            header = (image, alias, start, parent_index)
            if alias:
                aliases[alias.lower()] = len(stages)
        elif header is None:
            if keyword == "ARG":
                for name, default in _assignments("ARG", value):
                    if default is not None:
                        global_args[name] = expand(default, global_args) or default
        else:
            current.append(instruction)
    close_stage()
    return Dockerfile(tuple(stages), tuple(lines), suppressions, open_at_end)


def _close_final_continuation(lines: list[str]) -> tuple[list[str], bool]:
    """The lines with a line continuation on the last instruction line removed, and whether there
    was one. Docker builds an instruction continued past the end of the file as it stands;
    dockerfile-parse drops it, and a dropped `FROM debian` or `USER root` would hide root."""
    escape = "\\"
    for line in lines:
        directive = _ESCAPE_DIRECTIVE.match(line)
        if directive:
            escape = directive.group(1)
            break
        if not line.startswith("#"):
            break  # parser directives come before anything else
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].rstrip()
        if not stripped:
            continue
        if stripped.endswith(escape) and not stripped.lstrip().startswith("#"):
            return [*lines[:index], stripped[: -len(escape)], *lines[index + 1 :]], True
        break
    return lines, False
