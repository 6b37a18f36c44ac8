"""The platform stack: the governance project, the catalog's product metadata type and the
policy-tag taxonomies that every domain's sensitive columns point at."""

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
from cdktn_provider_google.dataplex_aspect_type import DataplexAspectType
from cdktn_provider_google.project import Project
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.project_service import ProjectService
from constructs import Construct

from meshform import catalog
from meshform.model import Mesh
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack, output_name, parent_args
from meshform.render.literal import literal

GOVERNANCE_APIS = (
    "bigquery.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "datacatalog.googleapis.com",
    "dataplex.googleapis.com",
    "iam.googleapis.com",
    "serviceusage.googleapis.com",
)


def policy_tag_output(location: str, tag: str) -> str:
    return output_name("policy_tag", location, tag)


GOVERNANCE_NUMBER_OUTPUT = "governance_project_number"


class PlatformStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh):
        super().__init__(scope, PLATFORM_STACK, mesh)
        project = Project(
            self,
            "governance_project",
            project_id=mesh.governance_project,
            name=mesh.governance_project,
            billing_account=mesh.billing_account,
            labels={**mesh.labels, "mesh": mesh.name, "role": "governance"},
            auto_create_network=False,
            deletion_policy="PREVENT",
            **parent_args(mesh),
        )
        services = [
            ProjectService(self, self.id("service", api.split(".")[0]), project=project.project_id,
                           service=api, disable_on_destroy=False)
            for api in GOVERNANCE_APIS
        ]
        for role in roles.PLATFORM_TEAM_ROLES:
            ProjectIamMember(self, self.id("platform_team", role.split("/")[1]), project=project.project_id,
                             role=role, member=literal(mesh.platform_team))

        if mesh.catalog_backend == "dataplex":
            DataplexAspectType(
                self,
                "data_product_aspect_type",
                project=project.project_id,
                location="global",
                aspect_type_id=catalog.ASPECT_TYPE_ID,
                display_name=catalog.DISPLAY_NAME,
                description=catalog.DESCRIPTION,
                metadata_template=json.dumps(catalog.aspect_metadata_template()),
                deletion_policy="PREVENT",  # deleting it would drop every product's aspect
                depends_on=services,
            )
        else:
            self._tag_template(project, services)

        for location in mesh.taxonomy_locations:
            taxonomy = DataCatalogTaxonomy(
                self,
                self.id("taxonomy", location),
                project=project.project_id,
                region=location,
                display_name=literal(f"{mesh.name} sensitive data ({location})"),
                description="Column-level security for the data mesh; managed by meshform.",
                activated_policy_types=["FINE_GRAINED_ACCESS_CONTROL"],
                deletion_policy="PREVENT",  # deleting it unprotects every tagged column
                depends_on=services,
            )
            for tag, description in sorted(mesh.policy_tags.items()):
                policy_tag = DataCatalogPolicyTag(
                    self,
                    self.id("tag", location, tag),
                    taxonomy=taxonomy.id,
                    display_name=tag,
                    description=literal(description),
                    deletion_policy="PREVENT",
                )
                TerraformOutput(self, policy_tag_output(location, tag), value=policy_tag.name)

        TerraformOutput(self, GOVERNANCE_NUMBER_OUTPUT, value=project.number)

    def _tag_template(self, project: Project, services: list) -> None:
        fields = []
        for index, field in enumerate(catalog.FIELDS):
            if field.kind == "enum":
                allowed = [DataCatalogTagTemplateFieldsTypeEnumTypeAllowedValues(display_name=v) for v in field.values]
                field_type = DataCatalogTagTemplateFieldsType(
                    enum_type=DataCatalogTagTemplateFieldsTypeEnumType(allowed_values=allowed))
            else:
                primitive = "DOUBLE" if field.kind == "integer" else "STRING"
                field_type = DataCatalogTagTemplateFieldsType(primitive_type=primitive)
            fields.append(DataCatalogTagTemplateFields(
                field_id=field.name, display_name=field.display_name, description=field.description,
                type=field_type, is_required=True, order=len(catalog.FIELDS) - index))
        DataCatalogTagTemplate(
            self,
            "data_product_tag_template",
            project=project.project_id,
            region=self.mesh.taxonomy_locations[0],
            tag_template_id=catalog.TAG_TEMPLATE_ID,
            display_name=catalog.DISPLAY_NAME,
            fields=fields,
            force_delete=False,
            deletion_policy="PREVENT",
            depends_on=services,
        )
