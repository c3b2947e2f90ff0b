"""Groth16 backends that read and write files: key directories on disk, iden3 files, the
native extension, the snarkjs CLI and groth16py.

They sit above `circuits.groth16` (the interface, the key-directory description, the
pure-Python verifier) and `circuits.formats` (the file layouts), share one proving
sequence (`base.KeyDirBackend`), and are found through the registry in
`circuits.groth16.backend`.
"""
