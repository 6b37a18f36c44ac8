"""meshform: a data mesh on Google Cloud, as code.

The flow: load (YAML → data with positions) → spec (pydantic models) → resolve (model)
→ check (findings) → render (CDK Terrain → Terraform JSON). See README.md.
"""

__version__ = "0.1.0"
