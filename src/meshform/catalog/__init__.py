"""catalog — the consumer's side: what the mesh offers and how to find and read it.

Takes: the resolved mesh (`meshform.model`). Gives: the metadata every product publishes
(`metadata`, also rendered as the Dataplex aspect type), product cards, `mesh.json` (the
manifest), Dataplex data-product names, discovery (a local index or the live catalog), the
portal, and ODCS data contracts.
"""
