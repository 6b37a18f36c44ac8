"""The platform stack: in the governance project (created by bootstrap), the catalog's product
metadata type and the policy-tag taxonomies that every domain's sensitive columns point at.

Column-level security is per domain: under each mesh-level policy tag (`pii`) every domain
that tags columns gets a child tag (`pii-sales`). Fine-grained read on a parent tag would
cover all its children, so nobody is granted a parent: a domain's owners read their own
children only, and a subscriber reads a producer's child only where the platform approved it
(mesh.yaml `column_access`)."""

from __future__ import annotations

import json

from cdktn import TerraformOutput
from cdktn_provider_google.data_catalog_policy_tag import DataCatalogPolicyTag
from cdktn_provider_google.data_catalog_tag_template import (
    DataCatalogTagTemplate,
    DataCatalogTagTemplateFields,
    DataCatalogTagTemplateFieldsType,
    DataCatalogTagTemplateFieldsTypeEnumType,
    DataCatalogTagTemplateFieldsTypeEnumTypeAllowedValues,
)
from cdktn_provider_google.data_catalog_taxonomy import DataCatalogTaxonomy
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.dataplex_aspect_type import DataplexAspectType
from cdktn_provider_google.project_iam_member import ProjectIamMember
from constructs import Construct

from meshform.catalog import metadata as catalog
from meshform.model import Mesh
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack, output_name
from meshform.render.literal import literal
from meshform.render.plan import TagUsers

GOVERNANCE_NUMBER_OUTPUT = "governance_project_number"


def policy_tag_output(location: str, tag: str, domain: str) -> str:
    """The output holding the resource name of `domain`'s child of `tag` in `location`."""
    return output_name("policy_tag", location, tag, domain)


def taxonomy_display_name(mesh: Mesh, location: str) -> str:
    # Data Catalog display names allow only letters, numbers, underscores, dashes and spaces.
    return f"{mesh.name} sensitive data {location}"


def child_tag_display_name(tag: str, domain: str) -> str:
    # Display names are unique within a taxonomy, so a child repeats its parent's name.
    return f"{tag}-{domain}"


class PlatformStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, tag_users: TagUsers):
        """`tag_users`: which domains' columns carry each (location, policy tag) (render.plan)."""
        super().__init__(scope, PLATFORM_STACK, mesh)
        self.tag_users = dict(tag_users)
        project_id = mesh.governance_project
        governance = DataGoogleProject(self, "governance_project", project_id=project_id)
        for role in roles.PLATFORM_TEAM_ROLES:
            ProjectIamMember(
                self,
                self.id("platform_team", role.split("/")[1]),
                project=project_id,
                role=role,
                member=literal(mesh.platform_team),
            )

        if mesh.catalog_backend == "dataplex":
            DataplexAspectType(
                self,
                "data_product_aspect_type",
                project=project_id,
                location="global",
                aspect_type_id=catalog.ASPECT_TYPE_ID,
                display_name=catalog.DISPLAY_NAME,
                description=catalog.DESCRIPTION,
                metadata_template=json.dumps(catalog.aspect_metadata_template()),
                deletion_policy="PREVENT",  # deleting it would drop every product's aspect
            )
        else:
            self._tag_template(project_id)
        self._taxonomies(project_id)
        TerraformOutput(self, GOVERNANCE_NUMBER_OUTPUT, value=governance.number)

    def _taxonomies(self, project_id: str) -> None:
        mesh = self.mesh
        users = self.tag_users
        for location in mesh.taxonomy_locations:
            taxonomy = DataCatalogTaxonomy(
                self,
                self.id("taxonomy", location),
                project=project_id,
                region=location,
                display_name=taxonomy_display_name(mesh, location),
                description="Column-level security for the data mesh; managed by meshform.",
                activated_policy_types=["FINE_GRAINED_ACCESS_CONTROL"],
                deletion_policy="PREVENT",  # deleting it unprotects every tagged column
            )
            for tag, description in sorted(mesh.policy_tags.items()):
                parent = DataCatalogPolicyTag(
                    self,
                    self.id("tag", location, tag),
                    taxonomy=taxonomy.id,
                    display_name=tag,
                    description=literal(description),
                    deletion_policy="PREVENT",
                )
                for user in users.get((location, tag), ()):
                    child = DataCatalogPolicyTag(
                        self,
                        self.id("tag", location, tag, user),
                        taxonomy=taxonomy.id,
                        parent_policy_tag=parent.id,
                        display_name=child_tag_display_name(tag, user),
                        description=literal(f"{description} — columns of domain {user}"),
                        deletion_policy="PREVENT",
                    )
                    TerraformOutput(self, policy_tag_output(location, tag, user), value=child.name)

    def _tag_template(self, project_id: str) -> None:
        fields = []
        for index, field in enumerate(catalog.FIELDS):
            if field.kind == "enum":
                allowed = [DataCatalogTagTemplateFieldsTypeEnumTypeAllowedValues(display_name=v) for v in field.values]
                field_type = DataCatalogTagTemplateFieldsType(
                    enum_type=DataCatalogTagTemplateFieldsTypeEnumType(allowed_values=allowed)
                )
            else:
                primitive = "DOUBLE" if field.kind == "integer" else "STRING"
                field_type = DataCatalogTagTemplateFieldsType(primitive_type=primitive)
            fields.append(
                DataCatalogTagTemplateFields(
                    field_id=field.name,
                    display_name=field.display_name,
                    description=field.description,
                    type=field_type,
                    is_required=True,
                    order=len(catalog.FIELDS) - index,
                )
            )
        DataCatalogTagTemplate(
            self,
            "data_product_tag_template",
            project=project_id,
            region=self.mesh.taxonomy_locations[0],
            tag_template_id=catalog.TAG_TEMPLATE_ID,
            display_name=catalog.DISPLAY_NAME,
            fields=fields,
            force_delete=False,
            deletion_policy="PREVENT",
        )
