"""`meshform contract export|import`: data products as data contracts (ODCS v3), for consumers
and for the tools they use (datacontract-cli, Entropy Data). A thin layer over
`meshform.catalog.contracts`; `register(app)` adds the `contract` group to the main app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, complete_domain, complete_product
from meshform.exit_codes import ExitCode

FormatKey = Annotated[
    str, typer.Option("--format", metavar="FORMAT", help="The contract format: odcs (Open Data Contract Standard v3).")
]
Root = RootOption


def register(app: typer.Typer) -> None:
    """Add the `contract` command group to `app`."""
    contract = typer.Typer(help="Data contracts (ODCS v3): export products, import contracts.", no_args_is_help=True)
    contract.command("export")(export_command)
    contract.command("import")(import_command)
    app.add_typer(contract, name="contract")


def export_command(
    product: Annotated[
        str | None,
        typer.Argument(
            metavar="DOMAIN.PRODUCT",
            autocompletion=complete_product,
            help="The product, as DOMAIN.PRODUCT (e.g. sales.orders).",
        ),
    ] = None,
    all_products: Annotated[
        bool, typer.Option("--all", help="Every product of the mesh, one file each in --out DIR.")
    ] = False,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="PATH", help="The file to write (a folder with --all). [default: print]"),
    ] = None,
    fmt: FormatKey = "odcs",
    root: Root = Path("."),
) -> None:
    """Write a data product as a data contract (ODCS v3 YAML).

    Schema (tables, columns, types, required, policy-tagged columns as classification), owners,
    SLAs for freshness and refresh, and servers for the BigQuery dataset and the bucket.
    `--all --out contracts` writes contracts/<domain>.<product>.odcs.yaml for every product
    (and removes those of products that are gone).
    """
    from meshform.catalog import contracts
    from meshform.cli.common import out, resolved, u
    from meshform.files import write_atomic
    from meshform.findings import MeshformError

    chosen = contracts.get(fmt)
    mesh = resolved(root).mesh
    if all_products:
        if product is not None or out_path is None:
            raise MeshformError(
                "--all writes one file per product: give --out DIR and no product", exit_code=ExitCode.USAGE
            )
        written = contracts.write_all(mesh, out_path, fmt)
        out.print(f"[bold green]✓[/] {len(written)} contract(s) in {u(out_path)}", highlight=False)
        return
    if product is None:
        raise MeshformError("name a product as DOMAIN.PRODUCT, or use --all --out DIR", exit_code=ExitCode.USAGE)
    try:
        found = mesh.product(product)
    except KeyError:
        raise MeshformError(f"no product '{product}'; `meshform discover` lists products") from None
    text = chosen.dumps(chosen.export(mesh, found))
    if out_path is None:
        typer.echo(text, nl=False)
        return
    if out_path.is_dir():
        out_path = out_path / contracts.file_name(found, fmt)
    write_atomic(out_path, text.encode("utf-8"))
    out.print(f"[bold green]✓[/] wrote {u(out_path)}", highlight=False)


def import_command(
    contract_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The contract (ODCS v3 YAML).", exists=True, dir_okay=False)
    ],
    domain: Annotated[
        str,
        typer.Option(
            "--domain",
            "-d",
            metavar="DOMAIN",
            autocompletion=complete_domain,
            help="The domain whose file gets the product.",
        ),
    ],
    fmt: FormatKey = "odcs",
    root: Root = Path("."),
) -> None:
    """Add or update a contract's product in domains/DOMAIN.yaml.

    Keeps the file's comments and layout.

    The mesh is validated with it; on errors the file is left as it was. What the contract
    says that meshform cannot express (quality rules, primary keys, other roles...) is listed.
    """
    from meshform.authoring.contract_import import importer
    from meshform.cli.common import err, out, u
    from meshform.cli.report import Format, print_findings

    outcome = importer(fmt)(root, contract_file, domain)
    if outcome.findings:
        print_findings(outcome.findings, Format.text, out)
        err.print(f"[bold red]✗[/] {u(outcome.path)} was left unchanged: {u(outcome.product_key)} does not validate")
        raise typer.Exit(ExitCode.SPECS)
    verb = {"added": "added", "updated": "updated", "unchanged": "already matches"}[outcome.action]
    out.print(
        f"[bold green]✓[/] {u(outcome.product_key)} {verb} in {u(outcome.path)}; the mesh validates", highlight=False
    )
    for note in outcome.notes:
        out.print(f"  note: {u(note)}", highlight=False)
    if outcome.losses:
        out.print(f"[bold yellow]not expressible in meshform[/] ({len(outcome.losses)}; not written):", highlight=False)
        for loss in outcome.losses:
            out.print(f"  - {u(loss)}", highlight=False)
