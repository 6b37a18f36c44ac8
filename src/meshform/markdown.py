"""markdown: user-written text made inert in GitHub-flavoured Markdown.

Every Markdown writer (the PR summary, the product card) puts user values through `text`
(or `code` for identifiers): the value shows as written, but cannot open HTML or comments
(`<!--` would hide the rest of a PR comment), add links or images, mention people or
teams (`@org/team`), break out of a table cell (`|`), or start a new line (a forged
"approved" line).
"""

from __future__ import annotations

import re

from meshform.text import clean

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
# ones that can start or end inline syntax: emphasis, links and images, code, autolinks and
# HTML, strikethrough, table cells, headings, math ($).
_SPECIAL = re.compile(r"([\\`*_\[\]#!|~<>$])")
# ... and these start a block when they open a line (lists, setext underlines, numbers).
_LINE_START = re.compile(r"^(?:([-+=])|(\d+)(?=[.)]))")
_MENTION = re.compile(r"(?<![\w.])@(?=\w)")  # @user, @org/team; not the @ of an email
MAX_VALUE = 500  # characters of one value in a Markdown document


def text(value: object, limit: int = MAX_VALUE) -> str:
    """`value` as literal inline Markdown text, on one line, at most `limit` characters."""
    plain = clean(value)
    if len(plain) > limit:
        plain = plain[: limit - 1] + "…"
    escaped = plain.replace("&", "&amp;")
    escaped = _SPECIAL.sub(r"\\\1", escaped)
    escaped = _LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\", escaped)
    # A zero-width space after @ keeps the text readable but stops GitHub's mentions.
    return _MENTION.sub("@\u200b", escaped)


def code(value: object, limit: int = 200) -> str:
    """`value` as an inline code span (for names, keys, paths): a fence longer than any run
    of backticks inside, and `|` escaped so a table cell stays one cell."""
    plain = clean(value)
    if len(plain) > limit:
        plain = plain[: limit - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", plain)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") or not plain.strip() else ""
    return f"{fence}{pad}{plain.replace('|', chr(92) + '|')}{pad}{fence}"


def truncate(document: str, limit: int, note: str) -> str:
    """`document` cut at a line boundary to at most `limit` characters, `note` appended, so
    a comment never exceeds what GitHub accepts and never ends without saying so."""
    if len(document) <= limit:
        return document
    room = limit - len(note) - 2
    cut = document.rfind("\n", 0, max(room, 0))
    return document[: cut if cut > 0 else max(room, 0)] + "\n\n" + note + "\n"
