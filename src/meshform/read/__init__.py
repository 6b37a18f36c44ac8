"""read — the first stage: spec files on disk (or at a git ref) → plain data that remembers
where each value came from.

Takes: a mesh repository's paths. Gives: `SpecFile`s (data plus positions), read with a size
bound and never through a link out of the repository; YAML parse errors said in plain words.
Two YAML paths give the same data: ruamel's round trip, and libyaml's composer with YAML 1.2
resolvers (`fastyaml`); many files are parsed in worker processes (`parsemany`).
"""
