"""Benchmark: what emitting `google_project_service_identity` (google-beta only) costs a synth worker.

    python benchmarks/bench_service_identity.py

Each step in a fresh process, timed from process start (the MB column is Python's own peak and
the node processes still alive at the end: a rough figure, not jsii's peak):

* `cdktn only`: import cdktn (every worker pays it anyway);
* `raw identities`: import cdktn, build one stack with 2 raw `google_project_service_identity`
  resources on a google-beta provider block (render/raw.py's way) and synthesize it;
* `GA bindings`: import cdktn and `cdktn_provider_google` and build one resource — a stand-in
  for what loading `cdktn-provider-google-beta` (generated the same way, from a provider of the
  same size) would add to every worker on top of the GA bindings it already loads.

The difference `raw identities − cdktn only` is the raw approach's cost; `GA bindings −
cdktn only` is the order of what a second provider's bindings would cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap

STEPS = {
    "cdktn only": "import cdktn",
    "raw identities": """
        import cdktn
        app = cdktn.App(outdir=OUT)
        stack = cdktn.TerraformStack(app, "s")
        for service in ("dataplex.googleapis.com", "bigquerydatatransfer.googleapis.com"):
            r = cdktn.TerraformResource(stack, service.split(".")[0], terraform_resource_type="google_project_service_identity")
            r.add_override("provider", "google-beta")
            r.add_override("project", "p")
            r.add_override("service", service)
        stack.add_override("terraform.required_providers.google-beta", {"source": "hashicorp/google-beta", "version": "8.7.0"})
        stack.add_override("provider.google-beta", [{}])
        app.synth()
    """,
    "GA bindings": """
        import cdktn
        from cdktn_provider_google.provider import GoogleProvider
        from cdktn_provider_google.project_service import ProjectService
        app = cdktn.App(outdir=OUT)
        stack = cdktn.TerraformStack(app, "s")
        GoogleProvider(stack, "google")
        ProjectService(stack, "s", project="p", service="dataplex.googleapis.com")
        app.synth()
    """,
}

PROBE = """
import time, resource, os, sys
t0 = time.perf_counter()
OUT = sys.argv[1]
{body}
elapsed = time.perf_counter() - t0
def rss(pid):
    try:
        with open(f"/proc/{{pid}}/status") as f:
            return next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
    except OSError:
        return 0
children = [int(p) for p in os.popen(f"pgrep -P {{os.getpid()}}").read().split()]
mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + sum(rss(c) for c in children)) / 1024
print(json.dumps({{"seconds": elapsed, "mb": mb}}))
"""


def main() -> None:
    rows = {}
    for name, body in STEPS.items():
        runs = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as out:
                code = "import json\n" + PROBE.format(body=textwrap.dedent(body))
                done = subprocess.run([sys.executable, "-c", code, out], capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(done.stderr[-2000:])
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        runs.sort(key=lambda r: r["seconds"])
        rows[name] = runs[1]
        print(f"{name:16} {runs[1]['seconds']:6.2f} s  {runs[1]['mb']:7.0f} MB (median of 3)")
    base = rows["cdktn only"]
    for name in ("raw identities", "GA bindings"):
        print(
            f"{name} − cdktn only: {rows[name]['seconds'] - base['seconds']:+.2f} s, {rows[name]['mb'] - base['mb']:+.0f} MB"
        )


if __name__ == "__main__":
    main()
