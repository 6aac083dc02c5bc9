"""The bulk paths of the plan build (variables made in bulk, rows found by integer key codes) against the
PuLP and pandas calls they stand in for."""

import numpy as np
import pandas as pd
import pulp
import pytest

from capacity.plan.inputs import key_codes, row_owner
from capacity.plan.model import _plus, _variables


def test_bulk_variables_hold_what_pulps_constructor_sets():
    prob = pulp.LpProblem("p", pulp.LpMinimize)
    names = ["x_0", "b_T07-J1_2026", "n d0_3"]  # '-' and ' ' are replaced as PuLP replaces them
    upper = [None, 4, 2.5]
    cats = [pulp.LpContinuous, pulp.LpInteger, pulp.LpContinuous]
    made = _variables(prob, names, 0, upper, cats)
    for v, name, ub, cat in zip(made, names, upper, cats, strict=True):
        ref = prob.add_variable(name, lowBound=0, upBound=ub, cat=cat)
        assert isinstance(v, pulp.LpVariable) and v.name == ref.name
        assert {k: x for k, x in vars(v).items() if k != "hash"} == {k: x for k, x in vars(ref).items() if k != "hash"}
        assert hash(v) == id(v)
    with pytest.raises(pulp.PulpError):
        _variables(prob, ["y"], 0, [float("inf")])


def test_row_owner_finds_the_row_a_merge_finds():
    rng = np.random.default_rng(3)
    owners = pd.DataFrame({"s": list("abcab"), "t": [1, 1, 1, 2, 2]})
    frame = pd.DataFrame({"s": rng.choice(list("abcd"), 200), "t": rng.integers(1, 4, 200)})
    got = row_owner(owners, frame, ["s", "t"])
    merged = frame.merge(owners.reset_index(), on=["s", "t"], how="left")["index"].fillna(-1).astype(int).to_numpy()
    assert (got == merged).all() and (got == -1).any()
    with pytest.raises(ValueError, match="not unique"):
        row_owner(pd.concat([owners, owners.iloc[:1]]), frame, ["s", "t"])


def test_key_codes_number_equal_keys_alike_in_order_of_first_appearance():
    codes = key_codes([np.array(["p", "q", "p", "q", "r"], dtype=object), np.array([1, 1, 1, 2, 1])])
    assert codes.tolist() == [0, 1, 0, 2, 3]
    assert key_codes([np.array(["p", None], dtype=object)]).tolist() == [0, -1]


def test_plus_adds_as_pulp_adds():
    prob = pulp.LpProblem("p", pulp.LpMinimize)
    x, y, z = (prob.add_variable(k) for k in "xyz")
    a = pulp.LpAffineExpression([(x, 1.5), (y, 2.0)], constant=3.0)
    b = pulp.LpAffineExpression([(z, 4.0), (y, -0.5)], constant=1.0)
    ref = a + b
    got = _plus(a, b)
    assert list(got.items()) == list(ref.items()) and got.constant == ref.constant
    assert list(a.items()) == [(x, 1.5), (y, 2.0)]  # the parts are left as they were


def test_the_collector_is_paused_during_a_plan_and_left_as_it_was():
    import gc

    from capacity.plan import _gc_paused

    seen = []

    @_gc_paused
    def step(fail: bool):
        seen.append(gc.isenabled())
        if fail:
            raise RuntimeError("step failed")

    was = gc.isenabled()
    try:
        for start in (True, False):
            gc.enable() if start else gc.disable()
            step(False)
            with pytest.raises(RuntimeError):
                step(True)
            assert gc.isenabled() is start
        assert seen == [False] * 4
    finally:
        gc.enable() if was else gc.disable()
