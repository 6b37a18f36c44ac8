"""synth — what `meshform synth` and `meshform diff` decide around rendering.

Takes: the stacks `meshform.render` builds and the stacks committed in `terraform/`. Gives:
the changes per stack, destructive ones (data loss) first, and the guard's verdict: write the
stacks, or refuse (exit 3) because data would be lost that the platform has not released.
"""
