import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.errors import FieldRangeError
from circuits.field import HALF, R, check_canonical, from_field, inv, to_field


@given(st.integers(min_value=-HALF, max_value=HALF))
def test_signed_round_trip(v: int) -> None:
    x = to_field(v)
    assert 0 <= x < R
    assert from_field(x) == v


@pytest.mark.parametrize("v", [0, 1, -1, HALF, -HALF])
def test_boundaries(v: int) -> None:
    assert from_field(to_field(v)) == v


def test_negative_encoding_is_r_minus_v() -> None:
    assert to_field(-1) == R - 1
    assert from_field(R - 1) == -1


@pytest.mark.parametrize("v", [HALF + 1, -HALF - 1, R, -R, 2**300])
def test_values_that_would_alias_are_refused(v: int) -> None:
    with pytest.raises(FieldRangeError, match="signed range"):
        to_field(v)


@pytest.mark.parametrize("x", [-1, R, R + 5])
def test_from_field_refuses_non_canonical(x: int) -> None:
    with pytest.raises(FieldRangeError):
        from_field(x)


@given(st.integers(min_value=1, max_value=R - 1))
def test_inverse(x: int) -> None:
    assert x * inv(x) % R == 1


def test_inverse_of_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        inv(0)


def test_check_canonical_names_the_index() -> None:
    assert check_canonical([0, R - 1]) == [0, R - 1]
    with pytest.raises(FieldRangeError, match="#1"):
        check_canonical([1, R])
