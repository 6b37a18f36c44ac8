"""What the identity that applies must be allowed to do, per Terraform resource type of the stacks,
and where that permission is tested (`meshform doctor`).

Where: `parent` — the folder or organization the domain projects are created in (the projects do
not exist before the first apply, so what the applier may do in them is what it holds on the
parent, inherited); `billing` — the billing account; `kms` — each Cloud KMS key a stack grants on;
`state` — the Terraform state bucket; `governance` — the governance project (policy-tag taxonomies,
aspect types, and the quota project of every request: the provider sets `user_project_override`).

Permission names are from Google's IAM reference, one page per service:
https://cloud.google.com/iam/docs/roles-permissions/<service> (resourcemanager, serviceusage, iam,
bigquery, bigquerydatatransfer, storage, cloudkms, billing, monitoring, datacatalog, dataplex,
orgpolicy). The roles are the predefined ones that hold them, named in each fix. Issue 20's resource
ledger (docs/resources.md) lists the same types; this table is reconciled with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PARENT, BILLING, KMS, STATE, GOVERNANCE = "parent", "billing", "kms", "state", "governance"
SCOPES = (PARENT, BILLING, KMS, STATE, GOVERNANCE)
# testIamPermissions takes a bounded list (Resource Manager, Cloud Billing, Cloud KMS: 100 per call is
# the documented bound for the policies these APIs share: https://cloud.google.com/iam/docs/testing-permissions).
BATCH = 100


@dataclass(frozen=True)
class Need:
    scope: str
    permissions: tuple[str, ...]
    role: str  # the predefined role that grants them (the fix)


def _n(scope: str, role: str, *permissions: str) -> Need:
    return Need(scope, permissions, role)


# Resource (or data source) type → what applying it needs, and where.
NEEDS: dict[str, tuple[Need, ...]] = {
    "google_project": (
        _n(
            PARENT,
            "roles/resourcemanager.projectCreator",
            "resourcemanager.projects.create",
            "resourcemanager.projects.get",
        ),
        _n(BILLING, "roles/billing.user", "billing.resourceAssociations.create"),
    ),
    "google_project_service": (
        _n(PARENT, "roles/serviceusage.serviceUsageAdmin", "serviceusage.services.enable", "serviceusage.services.get"),
    ),
    "google_project_default_service_accounts": (
        _n(PARENT, "roles/iam.serviceAccountAdmin", "iam.serviceAccounts.list", "iam.serviceAccounts.get"),
        _n(
            PARENT,
            "roles/resourcemanager.projectIamAdmin",
            "resourcemanager.projects.getIamPolicy",
            "resourcemanager.projects.setIamPolicy",
        ),
    ),
    "google_project_iam_member": (
        _n(
            PARENT,
            "roles/resourcemanager.projectIamAdmin",
            "resourcemanager.projects.getIamPolicy",
            "resourcemanager.projects.setIamPolicy",
        ),
    ),
    "google_project_iam_audit_config": (
        _n(
            PARENT,
            "roles/resourcemanager.projectIamAdmin",
            "resourcemanager.projects.getIamPolicy",
            "resourcemanager.projects.setIamPolicy",
        ),
    ),
    "google_resource_manager_lien": (
        _n(PARENT, "roles/resourcemanager.lienModifier", "resourcemanager.projects.updateLiens"),
    ),
    "google_service_account": (
        _n(PARENT, "roles/iam.serviceAccountAdmin", "iam.serviceAccounts.create", "iam.serviceAccounts.get"),
    ),
    "google_service_account_iam_member": (
        _n(
            PARENT,
            "roles/iam.serviceAccountAdmin",
            "iam.serviceAccounts.getIamPolicy",
            "iam.serviceAccounts.setIamPolicy",
        ),
    ),
    "google_bigquery_dataset": (
        _n(
            PARENT,
            "roles/bigquery.dataOwner",
            "bigquery.datasets.create",
            "bigquery.datasets.get",
            "bigquery.datasets.update",
        ),
    ),
    "google_bigquery_dataset_iam_member": (
        _n(
            PARENT,
            "roles/bigquery.dataOwner",
            "bigquery.datasets.getIamPolicy",
            "bigquery.datasets.setIamPolicy",
        ),
    ),
    "google_bigquery_table": (
        _n(
            PARENT,
            "roles/bigquery.dataOwner",
            "bigquery.tables.create",
            "bigquery.tables.get",
            "bigquery.tables.update",
            # Policy tags on columns: "bigquery.tables.setCategory" (BigQuery column-level security,
            # https://cloud.google.com/bigquery/docs/column-level-security#set_policy).
            "bigquery.tables.setCategory",
        ),
    ),
    "google_bigquery_data_transfer_config": (
        _n(PARENT, "roles/bigquery.admin", "bigquery.transfers.update", "bigquery.transfers.get"),
        _n(PARENT, "roles/iam.serviceAccountUser", "iam.serviceAccounts.actAs"),
    ),
    "google_bigquery_default_service_account": (
        # projects.getServiceAccount "Requires bigquery.jobs.create":
        # https://cloud.google.com/bigquery/docs/reference/rest/v2/projects/getServiceAccount
        _n(PARENT, "roles/bigquery.jobUser", "bigquery.jobs.create"),
    ),
    "google_storage_bucket": (
        _n(PARENT, "roles/storage.admin", "storage.buckets.create", "storage.buckets.get", "storage.buckets.update"),
    ),
    "google_storage_bucket_iam_member": (
        _n(PARENT, "roles/storage.admin", "storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy"),
    ),
    "google_kms_crypto_key_iam_member": (
        _n(KMS, "roles/cloudkms.admin", "cloudkms.cryptoKeys.getIamPolicy", "cloudkms.cryptoKeys.setIamPolicy"),
    ),
    "google_billing_budget": (
        _n(BILLING, "roles/billing.costsManager", "billing.budgets.create", "billing.budgets.get"),
    ),
    "google_monitoring_notification_channel": (
        _n(
            PARENT,
            "roles/monitoring.notificationChannelEditor",
            "monitoring.notificationChannels.create",
            "monitoring.notificationChannels.get",
        ),
    ),
    "google_data_catalog_taxonomy": (
        _n(
            GOVERNANCE,
            "roles/datacatalog.categoryAdmin",
            "datacatalog.taxonomies.create",
            "datacatalog.taxonomies.get",
            "datacatalog.taxonomies.update",
        ),
    ),
    "google_data_catalog_policy_tag": (
        _n(
            GOVERNANCE, "roles/datacatalog.categoryAdmin", "datacatalog.taxonomies.get", "datacatalog.taxonomies.update"
        ),
    ),
    "google_data_catalog_policy_tag_iam_member": (
        _n(
            GOVERNANCE,
            "roles/datacatalog.categoryAdmin",
            "datacatalog.taxonomies.getIamPolicy",
            "datacatalog.taxonomies.setIamPolicy",
        ),
    ),
    "google_dataplex_aspect_type": (
        _n(
            GOVERNANCE,
            "roles/dataplex.catalogAdmin",
            "dataplex.aspectTypes.create",
            "dataplex.aspectTypes.get",
            "dataplex.aspectTypes.update",
        ),
    ),
    "google_dataplex_entry": (
        _n(PARENT, "roles/dataplex.catalogEditor", "dataplex.entries.get", "dataplex.entries.update"),
        _n(GOVERNANCE, "roles/dataplex.aspectTypeUser", "dataplex.aspectTypes.use"),
    ),
    "google_dataplex_datascan": (
        _n(
            PARENT,
            "roles/dataplex.dataScanEditor",
            "dataplex.datascans.create",
            "dataplex.datascans.get",
            "dataplex.datascans.update",
        ),
    ),
    "google_dataplex_data_product": (
        # Names from the Dataplex IAM reference (dataplex.dataProducts.*); the data products feature
        # is recent, so a name the organization does not know yet makes testIamPermissions answer 400,
        # which doctor reports as such instead of a missing permission.
        _n(PARENT, "roles/dataplex.dataProductsAdmin", "dataplex.dataProducts.create", "dataplex.dataProducts.get"),
    ),
    "google_org_policy_policy": (
        # roles/orgpolicy.policyAdmin can be granted on the organization only:
        # https://cloud.google.com/iam/docs/roles-permissions/orgpolicy
        _n(PARENT, "roles/orgpolicy.policyAdmin (on the organization)", "orgpolicy.policy.get", "orgpolicy.policy.set"),
    ),
    "google_folder_iam_member": (
        _n(
            PARENT,
            "roles/resourcemanager.folderIamAdmin",
            "resourcemanager.folders.getIamPolicy",
            "resourcemanager.folders.setIamPolicy",
        ),
    ),
    "google_billing_account_iam_member": (
        _n(BILLING, "roles/billing.admin", "billing.accounts.getIamPolicy", "billing.accounts.setIamPolicy"),
    ),
    "terraform_remote_state": (_n(STATE, "roles/storage.objectViewer", "storage.objects.get", "storage.objects.list"),),
}

# Every stack with a gcs backend reads, writes and locks its state object (Terraform's gcs backend:
# https://developer.hashicorp.com/terraform/language/backend/gcs — "storage.objects.*" on the bucket);
# every request is charged to the governance project (provider billing_project + user_project_override),
# which needs serviceusage.services.use there (https://cloud.google.com/docs/quotas/set-quota-project).
ALWAYS: tuple[Need, ...] = (
    _n(
        STATE,
        "roles/storage.objectAdmin",
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
    ),
    _n(GOVERNANCE, "roles/serviceusage.serviceUsageConsumer", "serviceusage.services.use"),
)

# Types whose Google API must be enabled in the quota (governance) project before the apply.
APIS: dict[str, str] = {
    "google_project": "cloudresourcemanager.googleapis.com",
    "google_project_service": "serviceusage.googleapis.com",
    "google_project_default_service_accounts": "iam.googleapis.com",
    "google_resource_manager_lien": "cloudresourcemanager.googleapis.com",
    "google_service_account": "iam.googleapis.com",
    "google_bigquery_dataset": "bigquery.googleapis.com",
    "google_bigquery_table": "bigquery.googleapis.com",
    "google_bigquery_data_transfer_config": "bigquerydatatransfer.googleapis.com",
    "google_storage_bucket": "storage.googleapis.com",
    "google_kms_crypto_key_iam_member": "cloudkms.googleapis.com",
    "google_billing_budget": "billingbudgets.googleapis.com",
    "google_monitoring_notification_channel": "monitoring.googleapis.com",
    "google_data_catalog_taxonomy": "datacatalog.googleapis.com",
    "google_data_catalog_policy_tag": "datacatalog.googleapis.com",
    "google_data_catalog_policy_tag_iam_member": "datacatalog.googleapis.com",
    "google_dataplex_aspect_type": "dataplex.googleapis.com",
    "google_dataplex_entry": "dataplex.googleapis.com",
    "google_dataplex_datascan": "dataplex.googleapis.com",
    "google_dataplex_data_product": "dataplex.googleapis.com",
    "google_org_policy_policy": "orgpolicy.googleapis.com",
}


def needs(types: Iterable[str]) -> dict[str, dict[str, tuple[str, set[str]]]]:
    """scope → permission → (role, the resource types that need it), for the given types."""
    found: dict[str, dict[str, tuple[str, set[str]]]] = {scope: {} for scope in SCOPES}
    for kind in sorted(set(types)):
        for need in NEEDS.get(kind, ()):
            for permission in need.permissions:
                _role, kinds = found[need.scope].setdefault(permission, (need.role, set()))
                kinds.add(kind)
    for need in ALWAYS:
        for permission in need.permissions:
            found[need.scope].setdefault(permission, (need.role, set()))[1].add(
                "terraform state" if need.scope == STATE else "quota project"
            )
    return found


def apis(types: Iterable[str]) -> list[str]:
    return sorted({APIS[t] for t in types if t in APIS})
