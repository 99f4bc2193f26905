"""Event bodies and JSON columns go through orjson: what receivers and stored rows see must read the
same as the standard library's JSON did, and what it refused or wrote oddly must not break anything."""

import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, strategies as st

from notifiers import jsontext


def strict_json(body: bytes):
    """What a receiver's strict parser makes of a body (NaN and Infinity are not JSON)."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(body, parse_constant=refuse)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20)


@given(json_values)
def test_bodies_read_back_as_the_values_written_with_keys_in_order(value):
    body = jsontext.dumps(value, sort_keys=True)
    assert strict_json(body) == value
    pairs = []
    json.loads(body, object_pairs_hook=lambda items: pairs.append([k for k, _ in items]) or dict(items))
    assert all(keys == sorted(keys) for keys in pairs)


def test_bodies_are_compact_utf8_as_before():
    value = {"区县": "长春市", "b": [1, 2.5, None, True], "a": "line\nbreak \"quoted\""}
    assert jsontext.dumps(value, sort_keys=True) == json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def test_nan_and_infinity_become_null_not_invalid_json():
    assert strict_json(jsontext.dumps({"min_c": math.nan, "max_c": math.inf})) == {"min_c": None, "max_c": None}


def test_numpy_numbers_and_other_keys_are_written_as_json():
    assert strict_json(jsontext.dumps({1: np.float64(-12.5), "n": np.int64(3)})) == {"1": -12.5, "n": 3}


def test_integers_beyond_64_bits_are_written_whole():
    assert strict_json(jsontext.dumps({"big": 2**70})) == {"big": 2**70}


def test_objects_the_standard_library_refused_are_still_refused():
    with pytest.raises(TypeError, match="datetime"):
        jsontext.dumps({"at": datetime(2026, 11, 23, tzinfo=timezone.utc)})


@pytest.mark.parametrize("stored", ['{"min_c": NaN}', b'{"min_c": NaN}', memoryview(b'{"min_c": NaN}')])
def test_rows_stored_with_nan_before_still_read(stored):
    assert math.isnan(jsontext.loads(stored)["min_c"])


def test_damaged_text_is_still_an_error():
    with pytest.raises(ValueError):
        jsontext.loads(b'{"min_c": ')
