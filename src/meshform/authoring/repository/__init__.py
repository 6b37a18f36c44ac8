"""repository: a new mesh repository, as `meshform init` writes it.

The workflows here are the canonical copies: this repository's `.github/workflows/` must
equal them (a test checks it), and a new mesh repository gets them with meshform pinned to
the meshform that wrote them (`requirement.installed()`, or `init --meshform-requirement`)
instead of installed from this checkout (`MESHFORM: "."`).
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path

from meshform.authoring.repository.requirement import Pin, installed
from meshform.catalog.schemas import write_schemas
from meshform.files import write_atomic
from meshform.findings import MeshformError
from meshform.review.codeowners import CODEOWNERS_PATH, render_codeowners
from meshform.validation.validate import Result, validate

WORKFLOWS = (
    "meshform-apply.yaml",
    "meshform-expire.yaml",
    "meshform-portal.yaml",
    "meshform-pr.yaml",
    "meshform-terraform.yaml",
)
FROM_THIS_CHECKOUT = 'MESHFORM: "."'

MESH_YAML = """\
# yaml-language-server: $schema=schemas/mesh.schema.json
#
# Platform-wide settings of the data mesh, owned by the platform team (CODEOWNERS): a change
# here touches every stack. Replace each example value; `meshform validate` checks them all.
mesh: {name}                              # short name, used in labels and names
billing_account: {billing_account}       # the Cloud Billing account domain projects are billed to
billing_currency: {currency}                   # that account's currency: every budget uses it
parent: {parent}              # folders/<id> or organizations/<id>: where projects are created
project_prefix: {prefix}                   # domain project id = <project_prefix>-<domain>
default_location: {location}                      # BigQuery location for domains that set none
allowed_locations: [{location}]                 # data residency: no domain stores data elsewhere
state_bucket: {prefix}-tfstate              # Terraform state; created by the bootstrap stack
platform_team: {platform_team}  # IAM member of the platform team
code_owners: {code_owners}                  # GitHub team: approves mesh.yaml and new domains
governance_project: {prefix}-governance     # taxonomies and catalog types; created by bootstrap
labels:                                 # added to every labelled resource
  managed-by: meshform
policy_tags:                            # column-level security; columns say pii: true or policy_tag: <name>
  pii: Personally identifiable information
kms_keys: {{}}                            # customer-managed keys, by name (required for restricted data)
# ci:                                     # Workload Identity Federation from GitHub Actions (bootstrap)
#   github_repository: <owner>/<repository>
#   github_repository_id: <id>             # gh api repos/<owner>/<repository> --jq '.id, .owner.id'
#   github_owner_id: <id>                  # ids, not names: a re-registered name cannot take them over
"""

GITIGNORE = """\
.venv/
.meshform-cache/
# Terraform working files; the bootstrap stack's local state is kept safe elsewhere (README).
terraform/stacks/*/.terraform/
terraform/stacks/*/.terraform.lock.hcl
terraform/stacks/*/plan
terraform/stacks/bootstrap/terraform.tfstate*
# `meshform portal` output: meshform-portal.yaml builds and publishes it from main.
portal/
"""

PRE_COMMIT = """\
# Checks before each commit: `pip install pre-commit && pre-commit install`.
repos:
  - repo: local
    hooks:
      - id: meshform-validate
        name: meshform validate
        entry: meshform validate
        language: system
        pass_filenames: false
        files: ^(mesh\\.ya?ml|domains/.+\\.ya?ml|subscriptions/.+\\.ya?ml)$
      - id: meshform-codeowners
        name: meshform codeowners --check
        entry: meshform codeowners --check
        language: system
        pass_filenames: false
        files: ^(mesh\\.ya?ml|domains/.+\\.ya?ml|\\.github/CODEOWNERS)$
"""

README = """\
# {name} — a data mesh on Google Cloud

Specs of the {name} data mesh, turned into Terraform by [meshform](https://pypi.org/project/meshform/)
(the workflows in `.github/workflows/` install `{requirement}`: to upgrade, change that
`MESHFORM:` line in each, then run `meshform synth` with the new version and commit both).

- `mesh.yaml` — platform settings and policies (the platform team)
- `domains/<domain>.yaml` — one file per data domain (`meshform new-domain NAME --owner group:...`)
- `subscriptions/<producer>/<consumer>.yaml` — read access to other domains' products (`meshform subscribe`)
- `terraform/` — what `meshform synth` generates; commit it with the specs

Every change goes through a pull request: `meshform validate`, then `meshform synth`, commit both.
The first time, a person with organization rights applies `terraform/stacks/bootstrap` (see
meshform's README, "Applying the stacks with Terraform").
"""


def first_apply() -> str:
    """The first-apply checklist (docs/first-apply.md in meshform's repository), which `init` prints."""
    return resources.files(__package__).joinpath("first-apply.md").read_text(encoding="utf-8")


def workflow(name: str) -> str:
    """The canonical text of one of meshform's workflows (installing meshform from the checkout)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def init_repository(
    target: Path,
    *,
    name: str = "acme",
    prefix: str = "acme-dm",
    billing_account: str = "000000-000000-000000",
    currency: str = "USD",
    parent: str = "folders/000000000000",
    location: str = "EU",
    platform_team: str = "group:data-platform@example.com",
    code_owners: str = "@example/data-platform",
    pin: Pin | None = None,
) -> tuple[list[str], Result]:
    """Write a new mesh repository into `target` (which must hold no mesh.yaml yet); return the
    files written and the validation of the result.

    The repository is written and validated in a folder of its own first: when the options make
    a mesh that does not validate, nothing is written to `target` (the result says why) and
    `init` can run again with other options. `pin` is what the workflows install (default:
    the running meshform, `requirement.installed()`)."""
    if (target / "mesh.yaml").exists():
        raise MeshformError(f"{target / 'mesh.yaml'} exists: {target} is a mesh repository already")
    pin = pin or installed()
    files = {
        "mesh.yaml": MESH_YAML.format(
            name=name,
            prefix=prefix,
            billing_account=billing_account,
            currency=currency,
            parent=parent,
            location=location,
            platform_team=platform_team,
            code_owners=f'["{code_owners}"]',
        ),
        "domains/.gitkeep": "",
        "subscriptions/.gitkeep": "",
        ".gitignore": GITIGNORE,
        ".pre-commit-config.yaml": PRE_COMMIT,
        "README.md": README.format(name=name, requirement=pin.requirement),
    }
    for name_ in WORKFLOWS:
        files[f".github/workflows/{name_}"] = workflow(name_).replace(
            FROM_THIS_CHECKOUT, f"MESHFORM: {json.dumps(pin.requirement)}"
        )
    with tempfile.TemporaryDirectory(prefix="meshform-init-") as staging_dir:
        staging = Path(staging_dir)
        for relative, text in files.items():
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(staging / relative, text.encode("utf-8"))
        write_schemas(staging / "schemas")
        result = validate(staging)
        if not result.ok or result.mesh is None:
            return [], result
        write_atomic(staging / CODEOWNERS_PATH, render_codeowners(result.mesh).encode("utf-8"))
        written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        for relative in written:
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, (staging / relative).read_bytes())
    return written, validate(target)
