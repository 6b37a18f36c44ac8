"""Google Cloud naming rules, as reusable annotated types with messages a person can act on.

Each rule is enforced by a validator (for the message) and published as a JSON Schema
`pattern` (so editors flag it while typing).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from meshform.text import excerpt

# --- locations --------------------------------------------------------------------------

MULTI_REGIONS = ("EU", "US")
REGIONS = (
    "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
    "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
    "europe-north2", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10",
    "europe-west12", "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
    "northamerica-northeast2", "northamerica-south1", "southamerica-east1",
    "southamerica-west1", "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
    "us-west1", "us-west2", "us-west3", "us-west4",
)  # fmt: skip
LOCATIONS = MULTI_REGIONS + REGIONS


def _normalise_location(value: object) -> object:
    # BigQuery spells multi-regions upper-case and regions lower-case; accept either.
    if isinstance(value, str):
        return value.upper() if value.upper() in MULTI_REGIONS else value.lower()
    return value


def _check_location(value: str) -> str:
    if value not in LOCATIONS:
        raise ValueError(
            f"{excerpt(value)} is not a BigQuery location (multi-regions: EU, US; or a region such as europe-west1)"
        )
    return value


Location = Annotated[
    str,
    BeforeValidator(_normalise_location),
    AfterValidator(_check_location),
    Field(json_schema_extra={"enum": list(LOCATIONS)}),
]


# --- generic pattern rule ---------------------------------------------------------------


def _anchored(pattern: str) -> dict:
    # JSON Schema patterns search anywhere in the string; validators match it whole.
    return {"pattern": f"^(?:{pattern})$"}


def _rule(pattern: str, what: str, *, reserved: tuple[str, ...] = (), extra=None, normalise=None):
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"{excerpt(value)} is not a valid {what}")
        if reserved and value.lower() in reserved:
            raise ValueError(f"{excerpt(value)} is reserved; choose another {what.split(':')[0]}")
        if extra:
            extra(value)
        return value

    validators = (BeforeValidator(normalise),) if normalise else ()
    return Annotated[str, *validators, AfterValidator(check), Field(json_schema_extra=_anchored(pattern))]


def _no_google(value: str) -> None:
    if "google" in value:
        raise ValueError(f"{excerpt(value)} contains 'google', which Google Cloud does not allow")


MeshName = _rule(
    r"[a-z][a-z0-9-]{0,28}[a-z0-9]",
    "mesh name: 2-30 lowercase letters, digits and hyphens, starting with a letter",
)

# Domain names become stack names, label values and the suffix of project ids; the other
# stacks (bootstrap, platform, access-<producer>) must never collide with a domain's.
RESERVED_DOMAIN_NAMES = ("platform", "bootstrap", "governance", "mesh", "all", "none", "default", "access")
ACCESS_STACK_PREFIX = "access-"


def _not_a_stack_name(value: str) -> None:
    if value.startswith(ACCESS_STACK_PREFIX):
        raise ValueError(
            f"'{value}' starts with '{ACCESS_STACK_PREFIX}', which names the stacks of subscriptions' grants"
        )


DomainName = _rule(
    r"[a-z][a-z0-9-]{0,24}[a-z0-9]",
    "domain name: 2-26 lowercase letters, digits and hyphens, starting with a letter",
    reserved=RESERVED_DOMAIN_NAMES,
    extra=_not_a_stack_name,
)

ProjectPrefix = _rule(
    r"[a-z][a-z0-9-]{1,22}",
    "project prefix: 2-23 lowercase letters, digits and hyphens, starting with a letter",
    extra=_no_google,
)

PROJECT_ID_PATTERN = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
ProjectId = _rule(
    PROJECT_ID_PATTERN,
    "project id: 6-30 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen",
    extra=_no_google,
)

ProductName = _rule(
    r"[a-z][a-z0-9_]{0,62}",
    "product name: 1-63 lowercase letters, digits and underscores, starting with a letter",
)

# A leading underscore makes a dataset hidden in the console: not for data products.
DatasetId = _rule(
    r"[A-Za-z0-9][A-Za-z0-9_]{0,1023}",
    "dataset id: letters, digits and underscores, not starting with an underscore, at most 1,024",
)

TableId = _rule(
    r"[A-Za-z0-9_]{1,1024}",
    "table id: letters, digits and underscores, at most 1,024",
)

RESERVED_COLUMN_PREFIXES = (
    "_table_", "_file_", "_partition", "_row_timestamp", "__root__", "_colidentifier",
    "_change_sequence_number", "_change_type", "_change_timestamp",
)  # fmt: skip


def _no_reserved_column_prefix(value: str) -> None:
    lowered = value.lower()
    if not lowered.startswith(RESERVED_COLUMN_PREFIXES):  # one test for all: the common case
        return
    for prefix in RESERVED_COLUMN_PREFIXES:
        if lowered.startswith(prefix):
            raise ValueError(f"{excerpt(value)} starts with '{prefix.upper()}', a prefix BigQuery reserves")


ColumnName = _rule(
    r"[A-Za-z_][A-Za-z0-9_]{0,299}",
    "column name: letters, digits and underscores, starting with a letter or underscore, at most 300",
    extra=_no_reserved_column_prefix,
)

# `transformations:` and `quality:` (meshform.spec.running).
TransformationName = _rule(
    r"[a-z][a-z0-9_]{0,62}",
    "transformation name: 1-63 lowercase letters, digits and underscores, starting with a letter",
)
RuleName = _rule(
    r"[a-z][a-z0-9-]{0,61}[a-z0-9]",
    "rule name: 2-63 lowercase letters, digits and hyphens, starting with a letter (Dataplex rule names)",
)

LabelKey = _rule(
    r"[a-z][a-z0-9_-]{0,62}",
    "label key: 1-63 lowercase letters, digits, '_' and '-', starting with a letter",
)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


# Label values are case-folded (safe: 'CC-1001' and 'cc-1001' mean the same to a person);
# anything else that breaks GCP's label rules is an error, not silently rewritten.
LabelValue = _rule(
    r"[a-z0-9_-]{0,63}", "label value: at most 63 lowercase letters, digits, '_' and '-'", normalise=_lower
)

PolicyTagName = _rule(
    r"[a-z][a-z0-9_]{0,49}",
    "policy tag name: 1-50 lowercase letters, digits and underscores, starting with a letter",
)

BillingAccount = _rule(
    r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}",
    "billing account id: three groups of six upper-case hex digits, e.g. 012345-6789AB-CDEF01",
)

Parent = _rule(
    r"(folders|organizations)/[0-9]{1,20}",
    "parent: 'folders/<number>' or 'organizations/<number>'",
)

KmsKey = _rule(
    r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}",
    "Cloud KMS key: projects/<p>/locations/<l>/keyRings/<ring>/cryptoKeys/<key>",
)

Currency = _rule(r"[A-Z]{3}", "currency: a three-letter ISO 4217 code such as EUR or USD")


# --- buckets ----------------------------------------------------------------------------

_BUCKET = re.compile(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid Cloud Storage bucket name, or None. Dots are not allowed
    here: dotted names need domain verification, which a mesh cannot assume."""
    if not 3 <= len(name) <= 63:
        return f"bucket name {excerpt(name)} is {len(name)} characters; Cloud Storage allows 3 to 63"
    if not _BUCKET.fullmatch(name):
        return f"{excerpt(name)} is not a valid bucket name: lowercase letters, digits, '-' and '_', starting and ending with a letter or digit"
    if name.startswith("goog") or "google" in name or "g00gle" in name:
        return f"bucket name {excerpt(name)} may not start with 'goog' or contain 'google'"
    return None


def _check_bucket(value: str) -> str:
    problem = bucket_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


BucketName = Annotated[str, AfterValidator(_check_bucket), Field(json_schema_extra=_anchored(_BUCKET.pattern))]


def project_id_problem(project_id: str) -> str | None:
    if not re.fullmatch(PROJECT_ID_PATTERN, project_id):
        return (
            f"project id {excerpt(project_id)} ({len(project_id)} characters) is invalid: 6-30 lowercase "
            "letters, digits and hyphens, starting with a letter, not ending with a hyphen"
        )
    if "google" in project_id:
        return f"project id {excerpt(project_id)} contains 'google', which Google Cloud does not allow"
    return None


# --- IAM members ------------------------------------------------------------------------

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
MEMBER_PATTERN = rf"(user|group|serviceAccount):{_EMAIL}|domain:[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}"
_MEMBER = re.compile(MEMBER_PATTERN)
PUBLIC_MEMBERS = ("allusers", "allauthenticatedusers")


def _check_member(value: str) -> str:
    if value.lower() in PUBLIC_MEMBERS:
        raise ValueError(f"{excerpt(value)} would make data public; meshform never grants to it")
    if not _MEMBER.fullmatch(value):
        raise ValueError(
            f"{excerpt(value)} is not an IAM member; use user:, group:, serviceAccount: with an email, or domain: with a domain"
        )
    return value


Member = Annotated[str, AfterValidator(_check_member), Field(json_schema_extra=_anchored(MEMBER_PATTERN))]


# --- GitHub code owners -----------------------------------------------------------------

# A GitHub user (@name), a team (@org/team) or the email of a GitHub user.
CODE_OWNER_PATTERN = rf"@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,38}})(?:/[A-Za-z0-9._-]+)?|{_EMAIL}"
CodeOwner = _rule(CODE_OWNER_PATTERN, "code owner: a GitHub @user, an @org/team, or a GitHub user's email")
