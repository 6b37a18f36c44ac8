"""meshform's own invariants: what every stack it writes must hold, whatever the specs say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshform.constraints.core import Problem, Stack, blocks, is_ref, resources, rule

PROVIDER = "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/"
DATA = ("google_project", "google_bigquery_dataset", "google_bigquery_table", "google_storage_bucket")
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
BASIC_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})


@rule(
    "meshform-deletion-policy",
    "Projects, datasets, tables and buckets set deletion_policy: PREVENT, or DELETE once mesh.yaml released them.",
    "meshform: data is protected unless released (google provider 8: deletion_policy)",
    PROVIDER + "google_project.html.markdown",
)
def deletion_policy(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, *DATA):
        policy = body.get("deletion_policy")
        if is_ref(policy):
            continue
        if policy is None:
            yield address, "has no deletion_policy; meshform writes PREVENT (or DELETE for released data)"
        elif policy not in ("PREVENT", "DELETE"):
            yield address, f"deletion_policy is {policy!r}; meshform allows PREVENT, or DELETE for released data"


@rule(
    "meshform-table-protection",
    "A table's deletion_protection matches its deletion_policy: true with PREVENT, false with DELETE.",
    "meshform: data is protected unless released (google_bigquery_table: deletion_protection)",
    PROVIDER + "bigquery_table.html.markdown",
)
def table_protection(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_bigquery_table"):
        policy, protection = body.get("deletion_policy"), body.get("deletion_protection")
        if is_ref(policy) or is_ref(protection):
            continue
        if policy == "PREVENT" and protection is False:
            yield address, "deletion_policy is PREVENT but deletion_protection = false"
        elif policy == "DELETE" and protection in (True, None):
            yield address, "deletion_policy is DELETE (released) but deletion_protection is still on (true by default)"


@rule(
    "meshform-bucket-access",
    "Buckets use uniform bucket-level access and enforce public access prevention.",
    "Cloud Storage: uniform bucket-level access; public access prevention",
    "https://cloud.google.com/storage/docs/public-access-prevention",
)
def bucket_access(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_storage_bucket"):
        ubla, pap = body.get("uniform_bucket_level_access"), body.get("public_access_prevention")
        if ubla is not True and not is_ref(ubla):
            yield address, "uniform_bucket_level_access must be true"
        if pap != "enforced" and not is_ref(pap):
            yield address, f'public_access_prevention must be "enforced" (is {pap!r})'


def _members(rtype: str, body: dict[str, Any]) -> list[str]:
    found: list[str] = []
    member = body.get("member")
    if isinstance(member, str):
        found.append(member)
    members = body.get("members")
    if isinstance(members, list):
        found.extend(m for m in members if isinstance(m, str))
    entries = [body] if rtype == "google_bigquery_dataset_access" else []
    if rtype == "google_bigquery_dataset":
        entries = blocks(body.get("access"))
    for entry in entries:
        for key in ("iam_member", "special_group"):
            if isinstance(entry.get(key), str):
                found.append(entry[key])
    return found


@rule(
    "meshform-public-member",
    "No IAM member is allUsers or allAuthenticatedUsers.",
    "IAM: principal identifiers (allUsers, allAuthenticatedUsers)",
    "https://cloud.google.com/iam/docs/principal-identifiers",
)
def public_members(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for rtype, address, body in resources(stack):
        for member in _members(rtype, body):
            if member in PUBLIC_MEMBERS:
                yield address, f"grants access to {member}: meshform never makes data public"


@rule(
    "meshform-basic-role",
    "No IAM grant uses a basic role (roles/owner, roles/editor, roles/viewer).",
    "IAM: basic roles — avoid in production",
    "https://cloud.google.com/iam/docs/roles-overview#basic",
)
def basic_roles(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for rtype, address, body in resources(stack):
        if not ("_iam_" in rtype or rtype == "google_bigquery_dataset_access"):
            continue
        roles = [body.get("role")] + [b.get("role") for b in blocks(body.get("binding"))]
        for role in roles:
            if role in BASIC_ROLES:
                yield address, f"grants the basic role {role}; grant a predefined role instead"


@rule(
    "meshform-access-group-no-role",
    "A data product's access groups get no IAM role on its assets: reads come only from subscriptions (the access stacks).",
    "meshform: the subscription pull request is the system of record (Dataplex: DataAsset.accessGroupConfigs)",
    "https://cloud.google.com/dataplex/docs/reference/rest/v1/projects.locations.dataProducts.dataAssets",
)
def access_group_grants(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_data_product_data_asset"):
        for config in blocks(body.get("access_group_configs")):
            if config.get("iam_roles"):
                yield (
                    address,
                    (
                        f"access group {config.get('access_group')!r} gets {config.get('iam_roles')}: "
                        "its members (managed outside the mesh, or added by a console approval) would read "
                        "the data without a subscription; grant through a subscription instead"
                    ),
                )
