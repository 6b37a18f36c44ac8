"""Discovery: build the embedded FTS5 index of a synthetic mesh and query it.

    python benchmarks/bench_discover.py [DOMAINS]   (default 100 domains = 1,000 products)

Prints the median of 5 runs for building the index and for a query matching every product
(the worst case for ranking), beside the validate that every `discover` runs first.
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_mesh import generate

from meshform.catalog.discover.index import ProductIndex
from meshform.validation.validate import validate


def median_seconds(action, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    domains = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, domains)
        start = time.perf_counter()
        mesh = validate(root).mesh
        validate_s = time.perf_counter() - start
    build_s, index = median_seconds(lambda: ProductIndex(mesh))
    query_s, hits = median_seconds(lambda: index.search("synthetic email", limit=1000))
    print(f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(
        f"domains={domains} products={len(mesh.products)} validate={validate_s:.2f} s "
        f"index build={build_s * 1000:.1f} ms query={query_s * 1000:.2f} ms hits={len(hits)}"
    )


if __name__ == "__main__":
    main()
