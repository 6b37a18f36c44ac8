"""contracts: data products as data contracts.

One module per format behind a small registry, as datacontract-cli keeps its exporters:
`FORMATS["odcs"]` is the Open Data Contract Standard v3 (`odcs_export`). A contract read back
into a domain file is authoring's (`meshform.authoring.contract_import`). A new format is a
module here, one entry below and, to import it, a module there. Reads the resolved model only;
no cloud library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.catalog.contracts import odcs_export
from meshform.exit_codes import ExitCode

if TYPE_CHECKING:
    from meshform.model import Mesh, Product


@dataclass(frozen=True)
class ContractFormat:
    key: str
    title: str
    suffix: str  # file name ending of its contracts
    export: Callable[[Mesh, Product], dict]  # the contract of a product, as plain data
    dumps: Callable[[dict], str]  # that data as the format's text


FORMATS: dict[str, ContractFormat] = {
    "odcs": ContractFormat(
        "odcs",
        "Open Data Contract Standard v3",
        odcs_export.SUFFIX,
        odcs_export.contract,
        odcs_export.dumps,
    ),
}


def get(key: str = "odcs") -> ContractFormat:
    try:
        return FORMATS[key]
    except KeyError:
        from meshform.findings import MeshformError

        raise MeshformError(
            f"no contract format '{key}' (formats: {', '.join(FORMATS)})", exit_code=ExitCode.USAGE
        ) from None


def export_text(mesh: Mesh, product: Product, key: str = "odcs") -> str:
    fmt = get(key)
    return fmt.dumps(fmt.export(mesh, product))


def file_name(product: Product, key: str = "odcs") -> str:
    return f"{product.key}{get(key).suffix}"


def write_all(mesh: Mesh, folder: Path, key: str = "odcs") -> list[Path]:
    """Every product's contract in `folder` as <domain>.<product><suffix>; contracts of products
    that no longer exist are removed. Byte-identical for the same specs."""
    from meshform.files import write_atomic

    fmt = get(key)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for product in mesh.products:
        path = folder / file_name(product, key)
        text = fmt.dumps(fmt.export(mesh, product)).encode("utf-8")
        if not path.is_file() or path.read_bytes() != text:
            write_atomic(path, text)
        written.append(path)
    for stale in folder.glob(f"*{fmt.suffix}"):
        if stale not in written:
            stale.unlink()
    return written
