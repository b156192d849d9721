"""The JSON Schema subset: the bundled prompt set's schema, each keyword, and agreement with `jsonschema`."""

import json

import pytest

from studio.assets import INTENT_EVAL_FILE
from studio.evaluate.schema import same_json, schema_errors, schema_problems, unsupported_keywords

INTENT_SCHEMA = json.loads(INTENT_EVAL_FILE.read_text(encoding="utf-8").splitlines()[0])["json_schema"]

CASES = [  # (schema, value, valid)
    (INTENT_SCHEMA, {"intent": "set_alarm", "slots": {"time": "6点"}}, True),
    (INTENT_SCHEMA, {"intent": "set_alarm", "slots": {}}, True),
    (INTENT_SCHEMA, {"intent": "dance", "slots": {}}, False),  # enum
    (INTENT_SCHEMA, {"intent": "set_alarm"}, False),  # required
    (INTENT_SCHEMA, {"intent": "set_alarm", "slots": {}, "extra": 1}, False),  # additionalProperties false
    (INTENT_SCHEMA, {"intent": "set_alarm", "slots": {"time": 6}}, False),  # additionalProperties schema
    (INTENT_SCHEMA, [], False),
    ({"type": "integer"}, 3, True), ({"type": "integer"}, 3.0, True), ({"type": "integer"}, 3.5, False),
    ({"type": "integer"}, True, False), ({"type": "number"}, False, False), ({"type": "boolean"}, 0, False),
    ({"type": ["string", "null"]}, None, True), ({"type": ["string", "null"]}, 1, False),
    ({"enum": [1, "a"]}, True, False), ({"enum": [1, "a"]}, 1.0, True), ({"const": {"a": [1]}}, {"a": [1]}, True),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1}, ["a"], True),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [], False),
    ({"type": "array", "items": {"type": "string"}, "maxItems": 1}, ["a", 2], False),
    ({"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"}, "ab", True),
    ({"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"}, "abcd", False),
    ({"type": "string", "pattern": "^[a-z]+$"}, "AB", False),
    ({"type": "number", "minimum": 0, "maximum": 1}, 1, True), ({"type": "number", "minimum": 0}, -0.5, False),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 2, True),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 2.5, False),
    ({"properties": {"a": {"type": "string"}}}, {"a": "x", "b": 1}, True),
    ({"title": "annotations only", "description": "ignored"}, 42, True),
]


@pytest.mark.parametrize("schema, value, valid", CASES)
def test_subset_validator(schema, value, valid):
    assert (schema_errors(value, schema) == []) is valid


@pytest.mark.parametrize("schema, value, valid", CASES)
def test_agrees_with_the_jsonschema_package_where_installed(schema, value, valid):
    jsonschema = pytest.importorskip("jsonschema")
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is valid


def test_errors_name_the_path_and_the_problem():
    errors = schema_errors({"intent": "dance", "slots": {"time": 6}, "x": 1}, INTENT_SCHEMA)
    assert "$: property 'x' is not allowed" in errors
    assert "$.slots.time: expected string, got integer" in errors
    assert any(e.startswith("$.intent: 'dance' is not one of") for e in errors)


def test_unchecked_keywords_are_named_and_broken_schemas_refused():
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}},
              "oneOf": [{}], "$schema": "https://json-schema.org/draft/2020-12/schema"}
    assert unsupported_keywords(schema) == ["$: oneOf", "$.d: format"]
    assert unsupported_keywords(INTENT_SCHEMA) == []
    assert schema_problems(INTENT_SCHEMA) == []
    assert schema_problems({"type": "text"}) == ["$: unknown type 'text' (use one of object, array, string, "
                                                 "integer, number, boolean, null)"]
    assert schema_problems({"properties": {"a": []}}) == ["$.a: a schema must be a JSON object, got list"]
    assert schema_problems({"pattern": "("})[0].startswith("$: pattern is not a regular expression")
    assert schema_problems({"minLength": "2"}) == ["$: minLength must be a number"]
    assert schema_problems("string") == ["$: a schema must be a JSON object, got str"]


def test_same_json_keeps_booleans_apart_from_numbers():
    assert same_json({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same_json([True], [1]) and not same_json(0, False) and not same_json({"a": 1}, [1])
