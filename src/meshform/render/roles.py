"""The curated, least-privilege roles meshform grants. Never roles/owner or roles/editor:
infrastructure changes go through the specs and CI, not the console."""

# On the domain project, for the domain's owners: run queries, see the project and its health.
DOMAIN_OWNER_PROJECT_ROLES = (
    "roles/bigquery.jobUser",
    "roles/bigquery.readSessionUser",
    "roles/browser",
    "roles/logging.viewer",
    "roles/monitoring.viewer",
    "roles/serviceusage.serviceUsageConsumer",
)
# On the domain project, for the domain's pipeline service account.
PIPELINE_PROJECT_ROLES = (
    "roles/bigquery.jobUser",
    "roles/bigquery.readSessionUser",
)
# Scheduled queries run as the pipeline account: the BigQuery Data Transfer service agent mints its
# tokens (granted on that account only).
TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"
# The Dataplex service agent runs data quality scans: jobs in the domain project, read on scanned datasets.
SCAN_JOB_ROLE = "roles/bigquery.jobUser"
SCAN_READER_ROLE = "roles/bigquery.dataViewer"
# Owners may run jobs as the pipeline account (deploy and debug pipelines), not mint keys.
PIPELINE_ACCOUNT_USER_ROLE = "roles/iam.serviceAccountUser"

# On each product's stores, for its owners and the pipeline account: read and write data, but
# not change IAM (that is the specs' job). Each store kind names its own writer and reader
# roles (meshform.model.stores: StoreKind.writer_role / reader_role); a decommissioned product is
# frozen (readable, no longer written), and subscribers get the reader role.

# On policy tags used by a domain, for its owners and pipeline account: read tagged columns
# of tables they can already read.
FINE_GRAINED_READER_ROLE = "roles/datacatalog.categoryFineGrainedReader"

# On the governance project, for the platform team.
PLATFORM_TEAM_ROLES = (
    "roles/browser",
    "roles/datacatalog.categoryAdmin",
    "roles/dataplex.catalogEditor",
)

FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer")

# The CI identity that applies (bootstrap stack; only the apply job in the protected environment can
# impersonate it). It creates the domain projects, and a project's creator is its owner, so on those it
# needs nothing more. Organization policies are set by the person who applies bootstrap, not by CI.
CI_PARENT_ROLES = (
    "roles/resourcemanager.projectCreator",
    "roles/resourcemanager.folderViewer",
)
CI_BILLING_ROLES = (
    "roles/billing.user",  # link new projects to the billing account
    "roles/billing.costsManager",  # budgets
)
CI_GOVERNANCE_ROLES = (
    "roles/datacatalog.categoryAdmin",  # taxonomies, policy tags and who reads them
    "roles/dataplex.catalogAdmin",  # the aspect type
    "roles/serviceusage.serviceUsageConsumer",  # quota project of every request
    "roles/browser",
)
# Project IAM Admin on the governance project only to grant the platform team's roles: an IAM condition
# on the roles a request may modify ("Set limits on granting roles",
# https://cloud.google.com/iam/docs/setting-limits-on-granting-roles: at most 10 string constants, default
# []; requests other than setIamPolicy see [] and pass). Without it, CI could make itself owner of the
# state bucket and the identity pools that live in that project.
CI_GOVERNANCE_IAM_ADMIN_ROLE = "roles/resourcemanager.projectIamAdmin"
CI_GRANTABLE_GOVERNANCE_ROLES = PLATFORM_TEAM_ROLES
MODIFIED_GRANTS_LIMIT = 10  # "You can include up to 10 values in the list of allowed roles"


def grantable_roles_condition(grantable: tuple[str, ...]) -> str:
    """The CEL expression that limits which roles a role-granting binding may add or remove."""
    if not 0 < len(grantable) <= MODIFIED_GRANTS_LIMIT:
        raise ValueError(f"a role-granting limit takes 1 to {MODIFIED_GRANTS_LIMIT} roles, not {len(grantable)}")
    roles = ", ".join(f"'{r}'" for r in sorted(grantable))
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{roles}])"


# On each customer-managed key (not its project): read the key and its IAM policy and set it, so that each
# domain stack can grant its service agents encrypt/decrypt. A custom role, because the only grantable
# predefined role with cryptoKeys.setIamPolicy is Cloud KMS Admin, which also destroys key versions
# (https://cloud.google.com/iam/docs/roles-permissions/cloudkms). No create, update, destroy or restore.
# Domain stacks write project-level iam.allowedPolicyMemberDomains overrides for exceptions that admit
# outside customers; only then does CI hold this (organization-level only).
CI_ORG_POLICY_ROLE = "roles/orgpolicy.policyAdmin"
CI_KEY_ROLE_ID = "meshformKeyIamGranter"
CI_KEY_PERMISSIONS = (
    "cloudkms.cryptoKeys.get",
    "cloudkms.cryptoKeys.getIamPolicy",
    "cloudkms.cryptoKeys.setIamPolicy",
)

# The read-only plan identity: plans pull requests (terraform plan -lock=false) and reads the record of
# applies. Anyone who can push a branch runs code with it (a pull request's workflow and Terraform are
# the branch's own), so it holds no write and no data read: metadata and IAM policies only. Never
# roles/viewer: BigQuery gives project viewers READER on new datasets (access-control-basic-roles).
# Which roles a plan needs is derived from the resources meshform renders, not measured against a real
# organization: a missing permission shows as a 403 naming it in the plan job's log. Not covered: scheduled
# queries (bigquery.transfers.get), Dataplex data scans and data products (README, "Applying the stacks").
PLAN_STATE_ROLE = "roles/storage.objectViewer"  # state files and meshform/applied/*; not the lock (create)
PLAN_PARENT_ROLES = (
    "roles/browser",  # projects and folders
    "roles/iam.securityReviewer",  # every resource's IAM policy (cloudkms.viewer lacks getIamPolicy)
    "roles/bigquery.metadataViewer",  # datasets and tables, not their rows
    "roles/datacatalog.viewer",  # taxonomies and policy tags
    "roles/dataplex.catalogViewer",  # aspect types, entries, data products
    "roles/cloudkms.viewer",
    "roles/serviceusage.serviceUsageViewer",  # google_project_service
    "roles/iam.serviceAccountViewer",
    "roles/monitoring.viewer",  # budget notification channels
    "roles/storage.bucketViewer",  # bucket metadata (storage.buckets.get/list), not objects
    "roles/orgpolicy.policyViewer",
)
PLAN_GOVERNANCE_ROLES = ("roles/serviceusage.serviceUsageConsumer",)  # quota project of every request
PLAN_BILLING_ROLES = ("roles/billing.viewer",)  # budgets
