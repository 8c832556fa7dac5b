"""Tests of the 20-value taxonomy and ValueVector."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from s2b_env import taxonomy
from s2b_env import values as V
from s2b_env.values import VALUE_IDS, ValueVector

EXPECTED_IDS = [
    "self_direction_thought",
    "self_direction_action",
    "stimulation",
    "hedonism",
    "achievement",
    "power_dominance",
    "power_resources",
    "face",
    "security_personal",
    "security_societal",
    "tradition",
    "conformity_rules",
    "conformity_interpersonal",
    "humility",
    "benevolence_caring",
    "benevolence_dependability",
    "universalism_concern",
    "universalism_nature",
    "universalism_tolerance",
    "universalism_objectivity",
]


def test_ids_are_the_fixed_twenty_in_order():
    assert list(VALUE_IDS) == EXPECTED_IDS
    assert [v.id for v in V.VALUES] == EXPECTED_IDS
    assert [v.index for v in V.VALUES] == list(range(20))


def test_every_value_has_name_definition_and_group():
    names = [v.name for v in V.VALUES]
    assert len(set(names)) == 20
    assert V.display_name("self_direction_thought") == "Self-direction: thought"
    assert V.display_name("benevolence_caring") == "Benevolence: caring"
    for v in V.VALUES:
        assert v.definition.endswith(".") and 20 < len(v.definition) < 120, v.id
        assert v.group in V.GROUP_IDS
        assert v.border_group in (*V.GROUP_IDS, None) and v.border_group != v.group


def test_groups_partition_the_values_and_borders_are_documented():
    members = [vid for g in V.GROUP_IDS for vid in V.GROUP_MEMBERS[g]]
    assert sorted(members) == sorted(VALUE_IDS)
    assert V.group_members("openness_to_change") == (
        "self_direction_thought",
        "self_direction_action",
        "stimulation",
        "hedonism",
    )
    assert V.groups_of("hedonism") == ("openness_to_change", "self_enhancement")
    assert V.groups_of("achievement") == ("self_enhancement",)
    assert "hedonism" in V.group_members("self_enhancement", include_borders=True)
    assert "hedonism" not in V.group_members("self_enhancement")
    borders = {v.id for v in V.VALUES if v.border_group}
    assert borders == {"hedonism", "face", "humility"}
    # The taxonomy module's docstring table names every border value.
    for vid in borders:
        assert vid in taxonomy.__doc__


@pytest.mark.parametrize(
    "call",
    [V.get_value, V.display_name, V.definition, V.group_of, V.groups_of, V.value_index],
)
def test_unknown_id_lists_valid_ids(call):
    with pytest.raises(ValueError, match=r"unknown value id 'benevolence'.*self_direction_thought"):
        call("benevolence")


def test_unknown_group_and_bad_types():
    with pytest.raises(ValueError, match=r"unknown value group 'openness'.*self_transcendence"):
        V.group_members("openness")
    with pytest.raises(TypeError, match="must be a str, got int"):
        V.check_value_id(3)


def test_access_by_id_attribute_and_get():
    v = ValueVector(hedonism=2, face=-1.5)
    assert v["hedonism"] == 2.0 and v.hedonism == 2.0 and v.get("face") == -1.5
    assert v["humility"] == 0.0
    assert v.get("nope", 7) == 7
    with pytest.raises(ValueError, match="unknown value id 'nope'"):
        v["nope"]
    with pytest.raises(ValueError, match="unknown value id 'nope'"):
        v.get("nope")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = v.nope
    assert "face" in v and "nope" not in v
    assert list(v) == list(VALUE_IDS) and len(v) == 20
    assert dict(v)["face"] == -1.5


def test_immutable_hashable_and_picklable():
    v = ValueVector(stimulation=1)
    with pytest.raises(AttributeError, match="immutable"):
        v.stimulation = 3
    with pytest.raises(TypeError):
        v["stimulation"] = 3  # type: ignore[index]
    assert hash(v) == hash(ValueVector(stimulation=1.0))
    assert {v, ValueVector(stimulation=1.0)} == {v}
    assert pickle.loads(pickle.dumps(v)) == v
    assert copy.deepcopy(v) == v


def test_construction_checks():
    assert ValueVector(range(20))["universalism_objectivity"] == 19.0
    assert ValueVector(np.arange(20.0)) == ValueVector(range(20))
    with pytest.raises(ValueError, match=r"expected 20 numbers.*got 3"):
        ValueVector([1, 2, 3])
    with pytest.raises(TypeError, match="real number, got str"):
        ValueVector(hedonism="2")
    with pytest.raises(TypeError, match="real number, got bool"):
        ValueVector(hedonism=True)
    with pytest.raises(ValueError, match="must be finite"):
        ValueVector(hedonism=float("nan"))
    with pytest.raises(ValueError, match="unknown value id 'joy'"):
        ValueVector(joy=1)
    with pytest.raises(TypeError, match="not both"):
        ValueVector([0] * 20, face=1)
    with pytest.raises(TypeError, match="string"):
        ValueVector("a" * 20)


def test_arithmetic_with_vectors_and_scalars():
    a = ValueVector(hedonism=2, face=-1)
    b = ValueVector(hedonism=1, humility=4)
    assert (a + b).to_dict(nonzero=True) == {"hedonism": 3.0, "face": -1.0, "humility": 4.0}
    assert (a - b).to_dict(nonzero=True) == {"hedonism": 1.0, "face": -1.0, "humility": -4.0}
    assert (a * 3).to_dict(nonzero=True) == {"hedonism": 6.0, "face": -3.0}
    assert (3 * a) == a * 3
    assert (a / 2).hedonism == 1.0
    assert (a * b).to_dict(nonzero=True) == {"hedonism": 2.0}
    assert (a + 1)["tradition"] == 1.0 and (1 - a)["hedonism"] == -1.0
    assert (-a).face == 1.0 and abs(-a) == abs(a)
    assert sum([a, b, a]) == a + b + a
    assert sum([], ValueVector.zeros()) == ValueVector.zeros()
    with pytest.raises(ZeroDivisionError):
        a / 0
    with pytest.raises(TypeError):
        a + "x"  # type: ignore[operator]
    with pytest.raises(TypeError):
        a + [1] * 20  # type: ignore[operator]


def test_summaries():
    v = ValueVector(hedonism=2, achievement=1, humility=-3)
    assert v.total() == 0.0
    assert v.nonzero_ids() == ("hedonism", "achievement", "humility")
    assert v.group_totals() == {
        "openness_to_change": 2.0,
        "self_enhancement": 1.0,
        "conservation": 0.0,
        "self_transcendence": -3.0,
    }
    assert not ValueVector.zeros() and bool(v)
    assert repr(v) == "ValueVector(hedonism=2, achievement=1, humility=-3)"


def test_json_round_trip_and_partial_dicts():
    v = ValueVector(range(-10, 10)) / 4
    text = json.dumps(v.to_dict())
    assert ValueVector.from_dict(json.loads(text)) == v
    assert list(v.to_dict()) == list(VALUE_IDS)
    partial = ValueVector.from_dict({"tradition": 2})
    assert partial.tradition == 2.0 and partial.total() == 2.0
    with pytest.raises(ValueError, match=r"unknown value id 'kindness'.*benevolence_caring"):
        ValueVector.from_dict({"kindness": 1})
    with pytest.raises(TypeError, match="expected a dict"):
        ValueVector.from_dict([1, 2])  # type: ignore[arg-type]


def test_numpy_export():
    v = ValueVector(face=2)
    arr = v.to_numpy()
    assert arr.shape == (20,) and arr.dtype == np.float64 and arr[V.value_index("face")] == 2
    arr[0] = 9  # a copy: the vector is unchanged
    assert v.self_direction_thought == 0.0
    assert np.asarray(v).sum() == 2.0
    assert ValueVector.from_numpy(arr).self_direction_thought == 9.0
    with pytest.raises(ValueError, match=r"shape \(20,\)"):
        ValueVector.from_numpy(np.zeros((2, 20)))


def test_one_value_id_check_with_a_did_you_mean_everywhere():
    """s2b_env's check and training's option check give the same message for the same id."""
    from s2b_env.errors import ConfigError
    from training.value_ids import check_value_ids

    problem = V.value_id_problem("hedonsim")
    assert problem.startswith("unknown value id 'hedonsim' (did you mean 'hedonism'?)")
    with pytest.raises(ValueError) as err:
        V.check_value_id("hedonsim")
    assert str(err.value) == problem
    with pytest.raises(ConfigError) as err:
        check_value_ids(["hedonism", "hedonsim"], "--values")
    assert str(err.value) == f"--values: {problem}"
    with pytest.raises(ValueError, match="did you mean 'hedonism'"):
        ValueVector({"hedonsim": 1})
    assert V.value_id_problem("hedonism") is None
