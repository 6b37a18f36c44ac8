"""The spec of `subscriptions/<producer>/<consumer>.yaml`: one domain's requests to read
another domain's data products.

The file sits under the producer's folder so that the producer's owners (its CODEOWNERS
line) are the ones who approve it; the consumer writes it and opens the pull request.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from meshform.spec.base import SpecModel
from meshform.spec.names import DomainName, PolicyTagName, ProductName

SUBSCRIPTIONS_DIR = "subscriptions"


class Subscription(SpecModel):
    """Read access to one product of the producer, for the consumer domain."""

    product: ProductName = Field(description="A product of the producer domain.")
    purpose: str = Field(min_length=10, max_length=2000, description="What the consumer will do with the data.")
    expires: dt.date | None = Field(
        None, description="Access ends at 00:00 UTC on this date (an IAM condition). Omit for no end date."
    )
    policy_tags: list[PolicyTagName] = Field(
        default_factory=list,
        description=(
            "Also read the product's columns with these policy tags (e.g. [pii]). Needs the platform's approval "
            "in mesh.yaml column_access; without it tagged columns stay unreadable."
        ),
    )


class SubscriptionsSpec(SpecModel):
    """What one consumer domain reads from one producer domain."""

    consumer: DomainName = Field(description="The domain that reads; must match the file name.")
    producer: DomainName = Field(description="The domain that owns the products; must match the folder name.")
    subscriptions: list[Subscription] = Field(min_length=1)


def subscription_path(producer: str, consumer: str) -> str:
    return f"{SUBSCRIPTIONS_DIR}/{producer}/{consumer}.yaml"
