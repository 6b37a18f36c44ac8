"""portal: the mesh as a static website — a marketplace of data products, a page per product
and per domain, and a graph of who reads whom (`meshform portal`, docs/portal.md).

Read from the manifest (`meshform.catalog.manifest.build`), never from the specs or the model
directly, so a saved mesh.json builds the same site. No server and no CDN: HTML written by
autoescaping Jinja2 templates, one stylesheet, one small script, SVG drawn at build time.
"""

from __future__ import annotations

from meshform.catalog.portal.site import Built, build

__all__ = ["Built", "build"]
