"""exit_codes: the one table of what `meshform` exits with (README "Exit codes" points here).

Every command, and every `MeshformError` a library function raises, uses these values;
CI scripts and the workflows branch on them, so a value never changes meaning.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Done; the specs are valid (warnings allowed unless --strict)."""
    SPECS = 1
    """The user's specs are wrong, or the generated Terraform breaks a documented Google Cloud
    constraint: findings printed, nothing written."""
    USAGE = 2
    """A usage error: bad flag or argument, no mesh.yaml, unknown stack or git ref, a committed
    cdk.tf.json that is not valid JSON (the message names the file)."""
    DATA_LOSS = 3
    """The change would destroy data the platform has not released (mesh.yaml allow_deletion)."""
    REMOTE = 4
    """A Google API (the live Dataplex catalog, `status`, `doctor`, `drift`) failed, refused, or could
    not be reached; or there are no Google Cloud credentials."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT, as shells report it): nothing was written."""
