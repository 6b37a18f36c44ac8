"""yaml_words: a YAML parser's error, said as people say it.

ruamel words a syntax error in its grammar's terms ("expected <block end>, but found
'<block mapping start>'"). `plain` turns it into what happened in the file — bad indentation,
a tab, an unclosed quote or bracket, a missing `:` — with the line and column to look at,
and a hint how to fix it. It reads the file's text to say which line an indentation
mistake is measured against. Anything it does not recognise keeps the parser's words,
without the grammar's token names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from meshform.text import excerpt

INDENT_HINT = "the keys of one mapping, and the items of one list, start in the same column (indent with spaces)"
QUOTE_HINT = "put the value in quotes"

# The parser's tokens, in words.
_TOKENS = {
    "<block mapping start>": "a key",
    "<block sequence start>": "a list",
    "<block end>": "the end of the block",
    "<scalar>": "a value",
    "<alias>": "an alias (*name)",
    "<anchor>": "an anchor (&name)",
    "<tag>": "a tag (!name)",
    "<stream end>": "the end of the file",
    "<document start>": "a new document ('---')",
    "<document end>": "the end of the document ('...')",
    "-": "a list item ('- ')",
    "?": "a key",
    ":": "':'",
    ",": "','",
    "[": "'['",
    "]": "']'",
    "{": "'{'",
    "}": "'}'",
}
_FOUND = re.compile(r"'(<[a-z ]+>|[-?:,\[\]{}])'")
_CHAR = re.compile(r"found character '(.+)' that cannot start any token")


@dataclass(frozen=True)
class Plain:
    line: int  # 1-based; the file's first line when the parser gave no position
    col: int
    message: str
    hint: str = ""


def describe(error: BaseException, text: str) -> Plain:
    """Any failure of ruamel's parser on `text`, as a finding says it."""
    if isinstance(error, DuplicateKeyError):
        return Plain(*_mark(error.problem_mark), (error.problem or "duplicate key").removeprefix("found "))
    if isinstance(error, ConstructorError):  # a value Python refuses, a merge key, a tag: our own words
        problem = error.problem or error.context or "invalid YAML"
        problem = f"not valid YAML: {problem}" if problem.startswith("could not") else problem
        return Plain(*_mark(error.problem_mark or error.context_mark), problem)
    if isinstance(error, MarkedYAMLError):
        return plain(error, text)
    if isinstance(error, RecursionError):
        return Plain(1, 1, "not valid YAML: nesting is too deep")
    if isinstance(error, TypeError):  # ruamel cannot hash a complex key (`? {a: 1}` or `? [a]`)
        return Plain(1, 1, "a mapping or list is used as a key; keys must be plain strings")
    detail = str(error) if isinstance(error, YAMLError) else type(error).__name__
    return Plain(1, 1, f"not valid YAML: {detail}")  # unmarked: still the user's file


def plain(error: MarkedYAMLError, text: str) -> Plain:
    """`error` (a ruamel MarkedYAMLError) in plain words, at the position to look at."""
    problem = error.problem or error.context or "invalid YAML"
    context = error.context or ""
    at = _mark(error.problem_mark or error.context_mark)
    opened = _mark(error.context_mark) if error.context_mark is not None else at
    lines = text.splitlines()
    if "quoted scalar" in context:
        return _quoted(problem, at, opened)
    char = _CHAR.fullmatch(problem)
    if char:
        if char.group(1) == "\\t":
            line = lines[at[0] - 1] if 0 < at[0] <= len(lines) else ""
            where = "for indentation" if not line[: at[1] - 1].strip() else "here"
            return Plain(*at, f"a tab character is not allowed {where}", "indent with spaces")
        return Plain(*at, f"a value cannot start with '{char.group(1)}'", QUOTE_HINT)
    if problem == "mapping values are not allowed here":
        return _colon(lines, at)
    if problem == "could not find expected ':'":
        return _no_colon(lines, opened)
    if problem.startswith("expected <block end>"):
        return _block(lines, at, opened, _found(problem), context)
    if problem.startswith(("expected ',' or ']'", "expected ',' or '}'")):
        return _flow(at, opened, _found(problem), "list" if "]" in problem[:20] else "mapping")
    if problem.startswith("expected the node content"):
        return Plain(*at, f"a value is missing before {_found(problem)}")
    if problem.startswith("found undefined alias"):
        name = problem.removeprefix("found undefined alias").strip().strip("'")
        return Plain(*at, f"'*{name}' refers to an anchor '&{name}' that is not defined before it")
    if context == "expected a single document in the stream":
        return Plain(
            *at, f"a spec file holds one YAML document; a second one starts at line {at[0]}", "remove the '---'"
        )
    return Plain(*at, f"not valid YAML: {_FOUND.sub(lambda m: _TOKENS[m.group(1)], problem)}")


def _mark(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _found(problem: str) -> str:
    match = _FOUND.search(problem.split("but ", 1)[-1])
    return _TOKENS[match.group(1)] if match else "something else"


def _quoted(problem: str, at: tuple[int, int], opened: tuple[int, int]) -> Plain:
    if problem in ("found unexpected end of stream", "found unexpected document separator"):
        return Plain(
            *opened,
            f"unclosed quote: the quote at line {opened[0]}, column {opened[1]} is never closed",
            "close it on the same line, or quote a value that contains quotes with the other kind",
        )
    if problem.startswith(("found unknown escape", "expected escape sequence")):
        return Plain(
            *at, "an unknown escape in double quotes (a backslash starts one)", "use single quotes, or write \\\\"
        )
    return Plain(*at, f"not valid YAML in the quoted value that starts at line {opened[0]}: {problem}")


def _content(lines: list[str], number: int) -> tuple[int, str] | None:
    """The nearest line before line `number` (1-based) that holds more than a comment:
    (its number, its text)."""
    for index in range(min(number, len(lines) + 1) - 2, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1, lines[index]
    return None


def _key_column(line: str) -> int:
    """The 1-based column where a line's content starts, after any list markers ('- ')."""
    match = re.match(r"\s*(?:-\s+)*", line)
    return (match.end() if match else 0) + 1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" ")) + 1


def _against(lines: list[str], at: tuple[int, int]) -> Plain | None:
    """Line `at` indented more or less than the line above it, when it is."""
    above = _content(lines, at[0])
    if above is None or at[0] > len(lines):
        return None
    number, text = above
    col, expected = _indent(lines[at[0] - 1]), _key_column(text)
    if col == expected or number == at[0]:
        return None
    more = "more" if col > expected else "less"
    return Plain(
        at[0],
        col,
        f"bad indentation: line {at[0]} is indented {more} than the line above it "
        f"(column {col}; line {number} starts at column {expected})",
        INDENT_HINT,
    )


def _colon(lines: list[str], at: tuple[int, int]) -> Plain:
    """ "mapping values are not allowed here": a `: ` inside a value, a line that continues
    the value above (indented more), or a key without its colon on the line above."""
    line = lines[at[0] - 1] if 0 < at[0] <= len(lines) else ""
    before = line[: at[1] - 1]
    if re.search(r":(\s|$)", before.lstrip(" -")):
        return Plain(*at, "a value cannot contain ': ' (a colon and a space) unless it is quoted", QUOTE_HINT)
    indented = _against(lines, at)
    if indented is not None and "more" in indented.message:
        return indented
    above = _content(lines, at[0])
    if above is not None and ":" not in above[1].split("#", 1)[0]:
        number, text = above
        return Plain(number, _indent(text), f"line {number} has no ':' after its key ({excerpt(text.strip())})")
    return indented or Plain(*at, "a ':' is not allowed here", QUOTE_HINT)


def _no_colon(lines: list[str], opened: tuple[int, int]) -> Plain:
    text = lines[opened[0] - 1].strip() if 0 < opened[0] <= len(lines) else ""
    return Plain(
        *opened,
        f"line {opened[0]} is neither 'key: value' nor a list item ('- '): {excerpt(text)}",
        "add the ':' after the key, or '- ' before a list item",
    )


def _block(lines: list[str], at: tuple[int, int], opened: tuple[int, int], found: str, context: str) -> Plain:
    """ "expected <block end>": a line that belongs to no block above it."""
    line = lines[at[0] - 1] if 0 < at[0] <= len(lines) else ""
    if found == "a value" and at[1] > 1 and line[: at[1] - 1].rstrip().endswith(("'", '"')):
        return Plain(*at, "text after the closing quote of a value", "quote the whole value")
    in_list = "collection" in context and opened[1] == at[1]
    if found == "a list item ('- ')" and not in_list:
        return Plain(*at, f"line {at[0]} is a list item ('- ') among the keys of a mapping", INDENT_HINT)
    if found == "a key" and in_list:
        return Plain(*at, f"line {at[0]} is a key among the items of a list ('- ')", INDENT_HINT)
    return _against(lines, at) or Plain(
        *at, f"bad indentation: line {at[0]} does not line up with the lines above it", INDENT_HINT
    )


def _flow(at: tuple[int, int], opened: tuple[int, int], found: str, kind: str) -> Plain:
    close = "]" if kind == "list" else "}"
    start = "[" if kind == "list" else "{"
    if at[0] > opened[0]:
        return Plain(
            *opened,
            f"unclosed '{start}': the {kind} that starts at line {opened[0]}, column {opened[1]} has no '{close}'",
            f"close it with '{close}'",
        )
    return Plain(
        *at, f"{found} where ',' or '{close}' should be in the {kind} that starts at column {opened[1]}", QUOTE_HINT
    )
