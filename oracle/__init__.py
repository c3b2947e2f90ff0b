"""zkoracle, chain side: Solidity compilation, chains, contracts, the daemon and the CLI.

Proving goes through the `circuits` façade only.
"""

__version__ = "0.1.0"
