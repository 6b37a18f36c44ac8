"""text: user-written text made safe to print on a terminal or in a CI log.

Spec files come from pull requests. Whatever they contain is shown to people — in a
terminal, in GitHub Actions annotations — so it passes through here first:

* `clean` drops terminal escape sequences (colours, cursor moves, OSC 8 links, window
  titles), C0/C1 control characters and bidirectional overrides ("Trojan Source");
* `excerpt` is the one way a finding quotes a bad value: short, quoted, escaped;
* `github_data` / `github_property` escape GitHub workflow commands (`::error ...::`).

Markdown has its own module (`meshform.markdown`); Rich markup is escaped where the CLI
prints (`rich.markup.escape`).
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC
# (ESC P|X|^|_ ... ST), and two-character escapes; plus the 8-bit CSI/OSC introducers.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x9c)?"
)
# Control characters (tab and newline handled apart), DEL, C1, bidi embeddings, overrides
# and isolates, and the line/paragraph separators that some terminals treat as newlines.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

MAX_EXCERPT = 60


def clean(text: object, *, newlines: bool = False) -> str:
    """`text` without escape sequences or control characters. Newlines and tabs become
    spaces unless `newlines` is set (for text printed as a block)."""
    text = _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
    if not newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def has_controls(text: str) -> bool:
    """True when `text` holds anything `clean(..., newlines=True)` would drop."""
    return bool(_CONTROLS.search(text) or "\x1b" in text)


def excerpt(value: object, limit: int = MAX_EXCERPT) -> str:
    """A bad value as a finding quotes it: at most `limit` characters, in quotes, with every
    control character written as an escape (`'a\\nb'`), so it cannot forge output."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {value.bit_length()}-bit number"
    text = value if isinstance(value, str) else str(value)
    short = text[:limit]
    quoted = repr(short) if isinstance(value, str) else short.encode("unicode_escape").decode("ascii")
    return quoted + ("…" if len(text) > limit else "")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def github_data(text: str) -> str:
    """The message of a GitHub workflow command (`::error ...::MESSAGE`)."""
    return clean(text, newlines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a GitHub workflow command (`file=`, `title=`)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def escape_path(path: str) -> str:
    """A file name as printed: newlines, tabs, other control characters, backslashes and bytes
    that are not UTF-8 (read with `surrogateescape`) written as escapes (`a\\nb`, `\\xff`), so a
    name shows on one line and cannot start one of its own (a GitHub workflow command, `::`)."""
    out = []
    for char in path:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in "\n\t" or _CONTROLS.match(char):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def plural(count: int, noun: str) -> str:
    """ "1 bucket", "2 buckets", "0 files" (nouns that take an s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
