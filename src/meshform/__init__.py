"""meshform: a data mesh on Google Cloud, as code.

The flow: load (YAML → data with positions) → spec (pydantic models) → resolve (model)
→ check (findings) → render (CDK Terrain → Terraform JSON). See README.md.
"""

# Moves with CHANGELOG.md (tests/test_release.py): the newest `## [X.Y.Z]` heading when
# [Unreleased] is empty (a release), else a development version of the next one.
__version__ = "0.2.0.dev0"
