"""authoring — commands that write specs the way a person would: a new mesh repository and its
workflows, a new domain or product, a subscription, a contract imported as a product.

Takes: the user's request and the current specs. Gives: edited or new spec files, written only
when the mesh still validates with them (comments and layout kept).
"""
