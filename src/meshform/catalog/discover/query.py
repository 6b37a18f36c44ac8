"""query: what a search asks (words, filters) and what it answers (hits), the same for every
backend; the words a query is cut into, and the checks on its filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from meshform.findings import MeshformError, did_you_mean
from meshform.spec.classifications import CLASSIFICATIONS


class Backend(StrEnum):
    INDEX = "index"  # the specs of this checkout, in an SQLite FTS5 index
    DATAPLEX = "dataplex"  # the live catalog (the `dataplex` extra, Google credentials)


def check_classification(value: str | None) -> None:
    """A --classification filter must name a classification (a typo would match nothing)."""
    if value is not None and value not in CLASSIFICATIONS:
        raise MeshformError(f"--classification '{value}' is not one of {', '.join(CLASSIFICATIONS)}")


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    classification: str | None = None
    owner: str | None = None  # a substring of an owner, case-insensitive
    include_decommissioned: bool = False

    def admit(self, hit: Hit) -> bool:
        return (
            (self.domain is None or hit.domain == self.domain)
            and (self.classification is None or hit.classification == self.classification)
            and (self.owner is None or any(self.owner.lower() in o.lower() for o in hit.owners))
            and (self.include_decommissioned or hit.status != "decommissioned")
        )


@dataclass(frozen=True)
class Hit:
    domain: str
    product: str
    description: str
    classification: str
    status: str
    refresh: str
    freshness_slo_hours: int
    owners: tuple[str, ...]
    score: float = 0.0  # higher is a better match; 0 when listing without a query
    matched: tuple[str, ...] = ()  # what the query matched: name, description, table, column, owner

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.product}"

    def as_json(self) -> dict:
        """The hit for scripts (`discover --format json`)."""
        return {**asdict(self), "key": self.key, "owners": list(self.owners), "matched": list(self.matched)}


# Words that never discriminate, and words that describe every product ("I need order data"):
# the first are always left out, the second unless nothing else is left.
STOP_WORDS = frozenset(
    (
        "a an and any are about for from i in is it me my need of on or our show some the to we with want "
        # "sales per day", "revenue by country": joining words, not what the data is about
        "per by each every at as be into over than that this these those what which who where how "
        "can could would should will was were has have get find like looking you your their its all"
    ).split()
)
FILLER_WORDS = frozenset("data product products table tables".split())
# Inside a word: e-mail, customer_email, sales.orders, o'brien. Elsewhere punctuation separates.
_TOKEN = re.compile(r"[^\W_]+(?:['’\-_.][^\W_]+)*")
_JOINER = re.compile(r"['’\-_.]")


@dataclass(frozen=True)
class Term:
    """One word of a query: `parts` as the index splits it ("e-mail" → e, mail)."""

    text: str  # as written, lower-case ("e-mail")
    parts: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.parts)  # "email"


def query_terms(query: str) -> list[Term]:
    """The words of a free-text query that can discriminate, lower-case: a possessive loses its
    's, a word joined by - _ . or ' stays one word, and single letters, punctuation and stop
    words are left out ("customer's e-mail, AND(" → customer, e-mail)."""
    terms = []
    for token in _TOKEN.findall(query.lower()):
        token = re.sub(r"['’]s$", "", token)
        parts = tuple(p for p in _JOINER.split(token) if p)
        if len("".join(parts)) < 2 or (len(parts) == 1 and parts[0] in STOP_WORDS):
            continue
        terms.append(Term(token, parts))
    kept = [t for t in terms if t.text not in FILLER_WORDS]
    return list(dict.fromkeys(kept or terms))


def query_words(query: str) -> list[str]:
    """The query's terms as written ("I need order data" → ["order"]): what the live catalog is asked."""
    return [term.text for term in query_terms(query)]


def nothing_to_search(query: str) -> bool:
    """True for a query with text but no word to search for ("AND(", "?", "a"): it matches nothing."""
    return bool(query.strip()) and not query_terms(query)


def no_match(query: str, suggestions: list[str], filtered: bool) -> str:
    """What `discover` says when nothing matched: why, and what to try."""
    if nothing_to_search(query):
        return (
            f"nothing to search for in {query!r}: single letters, punctuation and common words "
            "(and, the, of, ...) are left out"
        )
    said = f"no products match {query!r}" if query.strip() else "no products"
    if suggestions:
        return f"{said}; did you mean {' or '.join(repr(s) for s in suggestions)}?"
    return f"{said}; try fewer or other words" + (", or drop a filter" if filtered else "")


def check_domain(domain: str | None, with_products: set[str], all_domains: Callable[[], set[str]]) -> None:
    """A --domain filter must name a domain of the mesh: a typo would match nothing."""
    if domain is None or domain in with_products:
        return
    known = all_domains()
    if domain not in known:
        raise MeshformError(
            f"--domain '{domain}': there is no such domain in this mesh{did_you_mean(domain, known)} "
            f"(domains: {', '.join(sorted(known))})"
        )
