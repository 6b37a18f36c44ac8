"""Resources of providers meshform does not load bindings for (google-beta, hashicorp/time).

A raw `cdktn.TerraformResource` without generator metadata, plus the provider's
`required_providers` entry and block as overrides: loading a second provider's cdktn bindings
in every synth worker costs far more than these few constructs (docs/resources.md,
"google_project_service_identity", for the measurement)."""

from __future__ import annotations

from cdktn import TerraformResource, TerraformStack

# hashicorp/time's time_sleep: hashicorp/terraform-provider-time, docs/resources/sleep.md (sleeps on create only).
TIME_PROVIDER = ("time", "hashicorp/time", "0.13.1")


def require_provider(stack: TerraformStack, name: str, source: str, version: str, config: dict | None = None) -> None:
    stack.add_override(f"terraform.required_providers.{name}", {"source": source, "version": version})
    stack.add_override(f"provider.{name}", [config or {}])


def raw_resource(
    stack: TerraformStack, id: str, rtype: str, attributes: dict, *, provider: str | None = None, depends_on=None
) -> TerraformResource:
    resource = TerraformResource(stack, id, terraform_resource_type=rtype, depends_on=depends_on)
    if provider:
        resource.add_override("provider", provider)
    for key, value in attributes.items():
        resource.add_override(key, value)
    return resource


def time_sleep(stack: TerraformStack, id: str, create_duration: str, depends_on: list) -> TerraformResource:
    """Waits `create_duration` once, after `depends_on` are created (never again on later applies)."""
    if not getattr(stack, "_time_provider", False):
        require_provider(stack, *TIME_PROVIDER)
        stack._time_provider = True  # type: ignore[attr-defined]
    return raw_resource(stack, id, "time_sleep", {"create_duration": create_duration}, depends_on=depends_on)
