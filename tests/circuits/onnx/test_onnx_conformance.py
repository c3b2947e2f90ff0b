"""The ONNX project's node test cases, through compile, witness (and Groth16 proofs).

* default run: a quick subset, witness only (every constraint checked), plus a few real
  proofs;
* with ``ZKORACLE_CONFORMANCE=full`` (marked slow; about 830 cases, too long for
  `make test`): every in-scope case whose operators the compiler claims, with setup,
  proof and verification; a case listed as failing in `circuits/onnx/CONFORMANCE.md`
  must fail (the table says why), every other one must pass, so the table cannot drift.
  Out-of-scope cases (the other table there) are skipped.
"""

from __future__ import annotations

import os

import pytest

from tests.circuits.onnx.conformance import (
    Case,
    expected_failures,
    in_scope,
    listed_out_of_scope,
    out_of_scope,
    run_case,
)

QUICK = [
    "test_abs",
    "test_add_bcast",
    "test_and_bcast3v1d",
    "test_argmax_keepdims_example",
    "test_averagepool_1d_default",
    "test_gather_0",
    "test_ceil_example",
    "test_clip_default_inbounds",
    "test_concat_2d_axis_0",
    "test_cumsum_1d_exclusive",
    "test_depthtospace_crd_mode_example",
    "test_div_example",
    "test_einsum_inner_prod",
    "test_elu_example",
    "test_equal_bcast",
    "test_convtranspose_1d",
    "test_dequantizelinear",
    "test_einsum_batch_matmul",
    "test_instancenorm_example",
    "test_exp_example",
    "test_expand_dim_changed",
    "test_floor_example",
    "test_gather_elements_0",
    "test_gelu_default_1",
    "test_greater_equal_bcast",
    "test_hardswish",
    "test_layer_normalization_2d_axis0",
    "test_leakyrelu_example",
    "test_less_bcast",
    "test_log_example",
    "test_matmul_2d",
    "test_mean_example",
    "test_not_2d",
    "test_pow_bcast_scalar",
    "test_reciprocal_example",
    "test_reduce_l2_default_axes_keepdims_example",
    "test_reduce_log_sum_exp_default_axes_keepdims_example",
    "test_round",
    "test_scatter_elements_without_axis",
    "test_sign",
    "test_softmax_example",
    "test_sqrt_example",
    "test_tile_precomputed",
    "test_top_k",
    "test_where_example",
    "test_scatter_elements_with_reduction_max",
    "test_scatternd_multiply",
    "test_maxpool_with_argmax_2d_precomputed_pads",
    "test_dynamicquantizelinear_min_adjusted",
    "test_pow",
]
PROVE = ["test_relu", "test_softmax_example", "test_where_example"]


def _case(name: str) -> Case:
    cases = in_scope()
    if name not in cases:
        pytest.fail(f"{name} is not an in-scope ONNX node test case")
    return cases[name]


@pytest.mark.parametrize("name", QUICK)
def test_quick_subset(name: str) -> None:
    assert name not in expected_failures(), f"{name} is listed as failing in CONFORMANCE.md"
    run_case(_case(name))


@pytest.mark.parametrize("name", PROVE)
def test_with_proof(name: str) -> None:
    run_case(_case(name), prove=True)


def test_table_lists_in_scope_cases_only() -> None:
    listed = expected_failures()
    unknown = sorted(set(listed) - set(in_scope()))
    assert not unknown, f"CONFORMANCE.md lists cases that are not in scope: {unknown[:10]}"
    outside = sorted(set(listed) & set(listed_out_of_scope()))
    assert not outside, f"CONFORMANCE.md lists out-of-scope cases as failures: {outside[:10]}"


def test_out_of_scope_table_is_exact() -> None:
    """The out-of-scope table holds exactly the claimed cases `out_of_scope` names."""
    want = {n for n, c in in_scope().items() if out_of_scope(c)}
    have = set(listed_out_of_scope())
    assert have == want, (sorted(have - want)[:10], sorted(want - have)[:10])


FULL = os.environ.get("ZKORACLE_CONFORMANCE") == "full"


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="set ZKORACLE_CONFORMANCE=full to run every case")
@pytest.mark.parametrize("name", sorted(in_scope()) if FULL else ["all"])
def test_every_claimed_case(name: str) -> None:
    outside = listed_out_of_scope().get(name)
    if outside is not None:
        pytest.skip(f"out of scope: {outside}")
    reason = expected_failures().get(name)
    if reason is not None and reason.startswith("too large"):
        pytest.skip(reason)
    if reason is None:
        run_case(_case(name), prove=True)
        return
    with pytest.raises(Exception):  # noqa: B017 - the table gives the reason
        run_case(_case(name))
