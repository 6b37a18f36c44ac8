"""stacks: the Terraform stacks meshform writes — their names, the order a fresh organization
applies them in, and where each one's file goes (`<out>/stacks/<stack>/cdk.tf.json`).
Plain names: no CDK Terrain."""

from __future__ import annotations

from collections.abc import Callable

from meshform.model import Mesh

BOOTSTRAP_STACK = "bootstrap"
PLATFORM_STACK = "platform"
STACKS_DIR = "stacks"
STACK_FILE = "cdk.tf.json"
CACHE_KIND = "stack"

# progress(message, done, total): a phase (total 0), or stacks done of total
Progress = Callable[[str, int, int], None]


def stack_names(mesh: Mesh) -> list[str]:
    """Every stack, in the order a fresh organization applies them: bootstrap (by a person),
    platform, the domains (in parallel), then the access stacks (in parallel)."""
    from meshform.spec.names import ACCESS_STACK_PREFIX

    producers = sorted({s.producer for s in mesh.subscriptions})
    return (
        [BOOTSTRAP_STACK, PLATFORM_STACK]
        + [d.name for d in mesh.domains]
        + [f"{ACCESS_STACK_PREFIX}{p}" for p in producers]
    )
