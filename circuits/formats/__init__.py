"""File formats, one module each, byte-compatible with the circom / snarkjs ecosystem."""
