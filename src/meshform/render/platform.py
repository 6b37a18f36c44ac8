"""The platform stack: in the governance project (created by bootstrap), the catalog's product
metadata type, the platform team's roles and the organization policies.

Column-level security used to live here (one mesh-wide taxonomy per location, a child tag per
domain); it is now each producer domain's own (render.policy_tags: one taxonomy per domain and
location, one policy tag per product and tag). The old taxonomies' Terraform addresses are
forgotten with `removed` blocks (`lifecycle.destroy = false`), never destroyed: their tags keep
protecting the columns until each domain stack re-tags them, and the platform team deletes
the old taxonomies by hand afterwards (CHANGELOG)."""

from __future__ import annotations

import json
import re

from cdktn import TerraformOutput
from cdktn_provider_google.data_catalog_tag_template import (
    DataCatalogTagTemplate,
    DataCatalogTagTemplateFields,
    DataCatalogTagTemplateFieldsType,
    DataCatalogTagTemplateFieldsTypeEnumType,
    DataCatalogTagTemplateFieldsTypeEnumTypeAllowedValues,
)
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.dataplex_aspect_type import DataplexAspectType
from cdktn_provider_google.project_iam_member import ProjectIamMember
from constructs import Construct

from meshform.catalog import metadata as catalog
from meshform.model import Mesh
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack
from meshform.render.literal import literal
from meshform.render.plan import TagUsers

GOVERNANCE_NUMBER_OUTPUT = "governance_project_number"


def legacy_policy_tag_addresses(mesh: Mesh, tag_users: TagUsers | dict) -> list[str]:
    """The Terraform addresses of the mesh-wide taxonomies and tags earlier releases rendered
    here: forgotten (not destroyed) by `removed` blocks. An address not in the state is a no-op
    (Terraform 1.7+ `removed` block; checked with Terraform 1.11)."""
    users = dict(tag_users)
    addresses = []
    for location in mesh.taxonomy_locations:
        addresses.append(f"google_data_catalog_taxonomy.{_legacy_id('taxonomy', location)}")
        for tag in sorted(mesh.policy_tags):
            addresses.append(f"google_data_catalog_policy_tag.{_legacy_id('tag', location, tag)}")
            for user in users.get((location, tag), ()):
                addresses.append(f"google_data_catalog_policy_tag.{_legacy_id('tag', location, tag, user)}")
    return addresses


def _legacy_id(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9-]+", "_", p).strip("_") for p in parts if p)


class PlatformStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, tag_users: TagUsers):
        """`tag_users`: which domains' columns carry each (location, policy tag) (render.plan): the
        tags earlier releases made here, to forget."""
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
        legacy = legacy_policy_tag_addresses(mesh, tag_users)
        if legacy:
            self.add_override("removed", [{"from": a, "lifecycle": {"destroy": False}} for a in legacy])
        TerraformOutput(self, GOVERNANCE_NUMBER_OUTPUT, value=governance.number)

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
