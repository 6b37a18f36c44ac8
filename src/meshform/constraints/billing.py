"""Cloud Billing budgets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshform.constraints.core import Problem, Stack, block, is_ref, resources, rule

BUDGET = "google_billing_budget"


# Verified (Billing Budget API v1, NotificationsRule.monitoring_notification_channels):
# "A maximum of 5 email notifications are allowed."
@rule(
    "budget-notification-channels",
    "A budget's all_updates_rule has at most 5 monitoring_notification_channels.",
    "Billing Budget API: NotificationsRule.monitoring_notification_channels",
    "https://cloud.google.com/billing/docs/reference/budget/rest/v1/billingAccounts.budgets#NotificationsRule",
)
def notification_channels(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, BUDGET):
        rule_block = block(body.get("all_updates_rule")) or {}
        channels = rule_block.get("monitoring_notification_channels")
        if isinstance(channels, list) and len(channels) > 5:
            yield address, f"all_updates_rule has {len(channels)} monitoring_notification_channels; at most 5"


def _provider_config(stack: Stack, reference: object) -> dict[str, Any] | None:
    """The google provider block a resource uses: `provider = "google.<alias>"`, else the default."""
    configs = (stack.get("provider") or {}).get("google")
    if isinstance(configs, dict):
        configs = [configs]
    if not isinstance(configs, list):
        return None
    alias = reference.split(".", 1)[1] if isinstance(reference, str) and "." in reference else None
    for config in configs:
        if isinstance(config, dict) and config.get("alias") == alias:
            return config
    return None


# Verified (google provider, google_billing_budget docs): "If you are using User ADCs
# (Application Default Credentials) with this resource, you must specify a billing_project and
# set user_project_override to true in the provider configuration. Otherwise the Billing
# Budgets API will return a 403 error."
@rule(
    "budget-quota-project",
    "A stack with a budget configures its google provider with user_project_override = true and a billing_project.",
    "google provider: google_billing_budget (warning on User ADCs)",
    "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/billing_budget.html.markdown",
)
def quota_project(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, BUDGET):
        reference = body.get("provider")
        if is_ref(reference):
            continue
        config = _provider_config(stack, reference)
        name = reference if isinstance(reference, str) else "google"
        if config is None:
            yield address, f"uses provider {name}, which this stack does not configure"
            continue
        missing = []
        override = config.get("user_project_override")
        if override is not True and not is_ref(override):
            missing.append("user_project_override = true")
        if config.get("billing_project") in (None, ""):
            missing.append("billing_project")
        if missing:
            yield (
                address,
                (
                    f"provider {name} lacks {' and '.join(missing)}: the Billing Budgets API bills the quota "
                    "project and answers 403 without it"
                ),
            )
