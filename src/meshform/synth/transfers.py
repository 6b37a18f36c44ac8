"""The data-loss guard's view of transformations (scheduled queries) in the Terraform.

A scheduled query deletes rows when it runs with `WRITE_TRUNCATE` (every row of its table,
each run) or as meshform's partition-replacing MERGE (the run's partition, each run);
model/writes.py explains the modes. In `diff`, `summary` and `synth` these are data-loss
changes when they reach a table that already exists:

* a new transformation, or a changed one, that truncates the table;
* a new transformation that replaces partitions, or a changed one whose write mode moves
  towards deletion (append or merge → replace_partition → truncate).

mesh.yaml `allow_deletion` releases them with `{domain, product, table, write}` (a `truncate`
grant also releases `replace_partition`).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshform.model.writes import DELETES, release_entry
from meshform.render.write_sql import written_by

KIND = "google_bigquery_data_transfer_config"
CONSEQUENCE = {
    "truncate": "DELETES EVERY ROW of {table} on each run",
    "replace_partition": "DELETES THE RUN'S PARTITION of {table} on each run",
}


@dataclass(frozen=True)
class Write:
    mode: str  # append | merge | replace_partition | truncate | "" (not one meshform renders)
    dataset: str
    table: str


def _dataset(reference: str, resources: dict[str, dict]) -> str:
    """A dataset id, its `${google_bigquery_dataset.<name>.dataset_id}` reference resolved."""
    if reference.startswith("${google_bigquery_dataset.") and reference.endswith(".dataset_id}"):
        name = reference[len("${") : -len(".dataset_id}")]
        return str(resources.get(name, {}).get("dataset_id", reference))
    return reference


def write_of(body: dict, resources: dict[str, dict]) -> Write | None:
    """How a scheduled query writes, and into which table; None for other transfers."""
    if body.get("data_source_id") != "scheduled_query":
        return None
    params = body.get("params") or {}
    disposition = str(params.get("write_disposition", ""))
    if disposition:
        mode = {"WRITE_TRUNCATE": "truncate", "WRITE_APPEND": "append"}.get(disposition, "")
        dataset = _dataset(str(body.get("destination_dataset_id", "")), resources)
        return Write(mode, dataset, str(params.get("destination_table_name_template", "")))
    found = written_by(str(params.get("query", "")))
    if found is None:
        return Write("", "", "")
    mode, name = found
    _project, dataset, table = (name.split(".") + ["", "", ""])[:3]
    return Write(mode, dataset, table)


def existing_tables(stack: str, resources: dict[str, dict]) -> set[tuple[str, str, str]]:
    """(stack, dataset id, table id) of every table in a stack."""
    return {
        (stack, _dataset(str(body.get("dataset_id", "")), resources), str(body.get("table_id", "")))
        for address, body in resources.items()
        if address.startswith("google_bigquery_table.")
    }


def loss(
    stack: str,
    before: dict | None,
    after: dict,
    old_resources: dict[str, dict],
    new_resources: dict[str, dict],
    released: dict[tuple[str, str, str], int],
) -> tuple[str, bool, str] | None:
    """(what the change loses, whether allow_deletion releases it, the allow_deletion entry that
    would), or None when it loses nothing.

    `released` maps (stack, dataset id, table id) to the highest write mode rank released."""
    new = write_of(after, new_resources)
    if new is None or DELETES.get(new.mode, 0) == 0:
        return None
    key = (stack, new.dataset, new.table)
    if key not in existing_tables(stack, old_resources):
        return None  # a new table holds no data yet
    old = write_of(before, old_resources) if before is not None else None
    same_table = old is not None and (old.dataset, old.table) == (new.dataset, new.table)
    old_rank = DELETES.get(old.mode, 0) if old is not None and same_table else 0
    if new.mode != "truncate" and DELETES[new.mode] <= old_rank:
        return None
    # display_name is <domain>.<product>.<transformation> (render/running.py).
    domain, product, name = (str(after.get("display_name", "")).split(".", 2) + ["?", "?", "?"])[:3]
    what = CONSEQUENCE[new.mode].format(table=f"{new.dataset}.{new.table}")
    return (
        f"{what} (transformation {name}, write: {new.mode})",
        released.get(key, 0) >= DELETES[new.mode],
        release_entry(domain, product, new.table, new.mode),
    )
