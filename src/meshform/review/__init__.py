"""review — what a pull request needs: which stacks it changes (the CI matrix), the Markdown
summary posted on it, and the CODEOWNERS that say who must approve each path.

Takes: the mesh at the branch and at its base (git refs), and the synthesized stacks. Gives:
text and data for CI; it changes no spec and no stack.
"""
