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

# The CI identity (bootstrap stack). It creates the domain projects, and a project's creator
# is its owner, so on those it needs nothing more.
CI_PARENT_ROLES = (
    "roles/resourcemanager.projectCreator",
    "roles/resourcemanager.folderViewer",
)
CI_ORG_POLICY_ROLE = "roles/orgpolicy.policyAdmin"  # organization_policies.enforce only
CI_BILLING_ROLES = (
    "roles/billing.user",  # link new projects to the billing account
    "roles/billing.costsManager",  # budgets
)
CI_GOVERNANCE_ROLES = (
    "roles/datacatalog.categoryAdmin",  # taxonomies, policy tags and who reads them
    "roles/dataplex.catalogAdmin",  # the aspect type
    "roles/resourcemanager.projectIamAdmin",  # the platform team's roles
    "roles/serviceusage.serviceUsageConsumer",  # quota project of every request
    "roles/browser",
)
CI_KEY_ROLE = "roles/cloudkms.admin"  # grant each domain's service agents its keys
