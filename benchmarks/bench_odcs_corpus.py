"""How many published ODCS contracts `meshform contract import` takes as they are.

    python benchmarks/bench_odcs_corpus.py CORPUS_DIR [--domain sales]

Each `*.yaml` of CORPUS_DIR is imported, alone, into a fresh copy of the tests' base mesh
(tests/fixtures/base), as `meshform contract import FILE --domain DOMAIN` would. A contract
either imports (the mesh validates with it), is refused (with meshform's first message), or
fails with an exception that is not meshform's — a bug. Prints one line per contract and the
counts; exits 1 when any contract raised such an exception. The corpus is not copied into the
project: pass its folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

from meshform.authoring.contract_import import import_contract
from meshform.findings import MeshformError

BASE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "base"


def one(contract: Path, domain: str) -> tuple[str, str]:
    """('imported' | 'refused' | 'exception', a line saying why)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(BASE, root)
        try:
            outcome = import_contract(root, contract, domain)
        except MeshformError as error:
            return "refused", str(error).splitlines()[0]
        except Exception as error:  # a bug: reported, never hidden
            frame = traceback.extract_tb(error.__traceback__)[-1]
            return "exception", f"{type(error).__name__}: {error} ({Path(frame.filename).name}:{frame.lineno})"
        if outcome.findings:
            first = next(iter(outcome.findings))
            return "refused", f"{len(list(outcome.findings))} finding(s); first: {first}"
        notes = f"; {len(outcome.notes)} note(s)" if outcome.notes else ""
        return "imported", f"{outcome.product_key} ({outcome.action}){notes}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="A folder of ODCS contracts (*.yaml).")
    parser.add_argument("--domain", default="sales", help="The base mesh's domain to import into.")
    args = parser.parse_args()
    contracts = sorted(args.corpus.glob("*.yaml"))
    if not contracts:
        print(f"no *.yaml in {args.corpus}", file=sys.stderr)
        return 2
    counts: Counter[str] = Counter()
    for contract in contracts:
        state, why = one(contract, args.domain)
        counts[state] += 1
        print(f"{state:9} {contract.name}: {why}")
    print(
        f"\n{counts['imported']}/{len(contracts)} imported, {counts['refused']} refused, "
        f"{counts['exception']} exception(s) (not meshform's errors: bugs)"
    )
    return 1 if counts["exception"] else 0


if __name__ == "__main__":
    sys.exit(main())
