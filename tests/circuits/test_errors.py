"""Errors cross process boundaries: a prover worker's exception reaches the daemon whole."""

from __future__ import annotations

import pickle

import circuits.errors as circuit_errors
import oracle.errors as oracle_errors
from circuits.errors import CircuitError, FormatError, UnsatisfiedConstraintError
from oracle.errors import OracleError


def test_errors_with_arguments_of_their_own_survive_pickling() -> None:
    for error in (
        FormatError("/keys/proving_key.bin", "content does not match its hash"),
        UnsatisfiedConstraintError(12, "relu/range", 1, 2, 3),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert copy.__dict__ == error.__dict__


def test_every_error_class_of_both_packages_round_trips() -> None:
    for module, root in ((circuit_errors, CircuitError), (oracle_errors, OracleError)):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, root):
                error = value.__new__(value)
                Exception.__init__(error, f"a {value.__name__}")
                assert str(pickle.loads(pickle.dumps(error))) == f"a {value.__name__}"
