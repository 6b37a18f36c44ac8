"""card_text: a product card (catalog.card's Markdown) as plain text that wraps, never cuts.

`meshform show` prints this at the terminal's width, or 80 columns when piped. Rich's Markdown
renderer cut long list items and table cells at the edge; this reads the card's small subset
of Markdown (headings, paragraphs, `-` lists, pipe tables, inline code, bold, backslash
escapes) and wraps every word into the width. A word longer than the width (an id, a URL)
gets a line of its own and is broken, never dropped.
"""

from __future__ import annotations

import re
import textwrap

_ESCAPE = re.compile(r"\\([\\`*_\[\]#!|~<>$+\-=.)(])")


def inline(text: str) -> str:
    """Markdown inline text as it reads: code fences, bold and escapes gone."""
    text = re.sub(r"(`+) ?(.*?) ?\1", lambda m: m.group(2).replace("\\|", "|"), text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    return text.replace("&amp;", "&").replace("@\u200b", "@")


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, len(rest) + 10),
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())
    return [inline(c.strip()) for c in cells[1:-1]]


def _table(rows: list[list[str]], width: int) -> list[str]:
    header, body = rows[0], rows[1:]
    if not any(header):  # a key/value table: keys in a column, values wrapped beside them
        key_width = max((len(r[0]) for r in body), default=0)
        lines = []
        for row in body:
            lines += _wrap(" ".join(row[1:]), width, f"{row[0]:<{key_width}}  ", " " * (key_width + 2))
        return lines
    columns = len(header)
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(columns)]
    fixed = sum(widths[:-1]) + 2 * (columns - 1)
    if fixed + 10 <= width:  # the last column (a description) wraps in what is left
        lines = []
        for row in rows:
            lead = "  ".join(f"{(row[i] if i < len(row) else ''):<{widths[i]}}" for i in range(columns - 1)) + "  "
            lines += _wrap(row[-1], width, lead, " " * len(lead)) if row[-1] else [lead.rstrip()]
            if row is header:
                lines.append("─" * min(width, fixed + max(widths[-1], 1)))
        return lines
    lines = []  # too narrow for columns: one block per row, "header: value" lines
    for row in body:
        lines += _wrap(row[0], width)
        for name, value in zip(header[1:], row[1:], strict=False):
            if value:
                lines += _wrap(f"{name}: {value}", width, "  ", "    ")
    return lines


def render(markdown: str, width: int = 80) -> str:
    """The card as text at most `width` columns wide (a word longer than that is broken)."""
    out: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):  # a command to copy: kept whole, indented (a terminal wraps it)
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append("  " + lines[i])
                i += 1
        elif line.startswith("#"):
            title = inline(line.lstrip("#").strip())
            out += _wrap(title, width)
            if not line.startswith("# "):
                out.append("─" * min(len(title), width))
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i].strip()):
                    rows.append(_cells(lines[i]))
                i += 1
            out += _table(rows, width)
            continue
        elif line.startswith(("- ", "* ")):
            out += _wrap(inline(line[2:]), width, "  • ", "    ")
        elif line.strip():
            paragraph = [line]
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].startswith(("#", "|", "- ", "* ")):
                i += 1
                paragraph.append(lines[i])
            out += _wrap(inline(" ".join(paragraph)), width)
        else:
            out.append("")
        i += 1
    return "\n".join(line.rstrip() for line in out).strip("\n") + "\n"
