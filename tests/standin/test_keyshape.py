"""The shape comparison the contract tests rely on must itself catch differences."""

from tests.standin.keyshape import sample, shape_differences


def test_identical_shapes_have_no_difference():
    body = sample(24)["response"]["body"]
    assert shape_differences(body, body) == []


def test_missing_and_unexpected_keys_are_reported_with_their_path():
    expected = {"a": {"b": 1, "c": [{"d": 1}]}}
    actual = {"a": {"b": 1, "x": 2, "c": [{"e": 1}]}}
    assert shape_differences(expected, actual) == [
        "$.a.c[0]: missing key 'd'",
        "$.a.c[0]: unexpected key 'e'",
        "$.a: unexpected key 'x'",
    ]


def test_lists_compare_their_first_item_and_must_not_be_empty():
    assert shape_differences([{"a": 1}], [{"a": 1}, {"zzz": 2}]) == []
    assert shape_differences([{"a": 1}], []) == ["$: expected a non-empty list"]
    assert shape_differences([], [{"a": 1}]) == []


def test_null_in_the_sample_accepts_any_value_but_objects_must_stay_objects():
    assert shape_differences({"track": None}, {"track": {"id": 1}}) == []
    assert shape_differences({"track": {"id": 1}}, {"track": None}) == [
        "$.track: expected an object, got NoneType"
    ]
    assert shape_differences({"n": 1}, {"n": [1]}) == ["$.n: expected a scalar, got list"]
