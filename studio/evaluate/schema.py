"""A small JSON Schema validator: the subset that describes the answers a fine-tuned model is asked to produce.

Checked keywords: type (one name or a list), enum, const, properties, required, additionalProperties (false or a
schema), items (one schema for every element), minItems, maxItems, minLength, maxLength, minimum, maximum, pattern
(re.search, as JSON Schema does), anyOf. Annotations (title, description, default, examples, $schema, $id,
$comment) are ignored as JSON Schema itself ignores them. Any other keyword (oneOf, allOf, $ref, format, ...) is
*not* checked; `unsupported_keywords` names them so the prompt reader can warn instead of passing silently.

Written here rather than depending on `jsonschema`: the studio does not require that package, and answers of a
prompt set need only this much. Types follow JSON, not Python: true is not an integer, 1.0 is one (draft 6+).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CHECKED = frozenset({"type", "enum", "const", "properties", "required", "additionalProperties", "items",
                     "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern", "anyOf"})
ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$schema", "$id", "$comment"})
TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return name == "number" or float(value).is_integer()


def _type_names(schema: Mapping) -> list:
    kinds = schema.get("type")
    return [] if kinds is None else kinds if isinstance(kinds, list) else [kinds]


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: like ==, except that true/false never equal 1/0 (Python's bool is an int)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return a == b


def _subschemas(schema: Mapping, path: str) -> list[tuple[Any, str]]:
    """(sub-schema, its path) for every place a checked keyword holds a schema."""
    subs: list[tuple[Any, str]] = []
    if isinstance(schema.get("properties"), Mapping):
        subs += [(sub, f"{path}.{name}") for name, sub in schema["properties"].items()]
    if isinstance(schema.get("additionalProperties"), Mapping):
        subs.append((schema["additionalProperties"], f"{path}.*"))
    if "items" in schema:
        subs.append((schema["items"], f"{path}[]"))
    if isinstance(schema.get("anyOf"), list):
        subs += [(sub, f"{path}.anyOf[{i}]") for i, sub in enumerate(schema["anyOf"])]
    return subs


def unsupported_keywords(schema: Any, path: str = "$") -> list[str]:
    """"path: keyword" for every keyword of `schema` (and its sub-schemas) that `schema_errors` does not check."""
    if not isinstance(schema, Mapping):
        return []
    found = [f"{path}: {key}" for key in schema if key not in CHECKED and key not in ANNOTATIONS]
    for sub, where in _subschemas(schema, path):
        found += unsupported_keywords(sub, where)
    return found


def schema_problems(schema: Any, path: str = "$") -> list[str]:
    """What makes `schema` itself unusable (wrong shapes of the checked keywords); [] when it can be applied."""
    if not isinstance(schema, Mapping):
        return [f"{path}: a schema must be a JSON object, got {type(schema).__name__}"]
    problems = []
    for kind in _type_names(schema):
        if kind not in TYPES:
            problems.append(f"{path}: unknown type {kind!r} (use one of {', '.join(TYPES)})")
    for key in ("minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum"):
        if key in schema and not _is_type(schema[key], "number"):
            problems.append(f"{path}: {key} must be a number")
    if "enum" in schema and not isinstance(schema["enum"], list):
        problems.append(f"{path}: enum must be a list")
    if "required" in schema and not (isinstance(schema["required"], list)
                                     and all(isinstance(k, str) for k in schema["required"])):
        problems.append(f"{path}: required must be a list of property names")
    if "properties" in schema and not isinstance(schema["properties"], Mapping):
        problems.append(f"{path}: properties must be an object of schemas")
    if "anyOf" in schema and not (isinstance(schema["anyOf"], list) and schema["anyOf"]):
        problems.append(f"{path}: anyOf must be a non-empty list of schemas")
    extra = schema.get("additionalProperties", True)
    if not isinstance(extra, (bool, Mapping)):
        problems.append(f"{path}: additionalProperties must be true, false or a schema")
    for sub, where in _subschemas(schema, path):
        problems += schema_problems(sub, where)
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as exc:
            problems.append(f"{path}: pattern is not a regular expression ({exc})")
    return problems


def _object_errors(value: dict, schema: Mapping, path: str) -> list[str]:
    errors = [f"{path}: missing required property {key!r}" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], f"{path}.{key}")
        elif extra is False:
            errors.append(f"{path}: property {key!r} is not allowed")
        elif isinstance(extra, Mapping):
            errors += schema_errors(item, extra, f"{path}.{key}")
    return errors


def _bounds_errors(value: Any, schema: Mapping, path: str) -> list[str]:
    errors = []
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']!r}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above the maximum {schema['maximum']}")
    return errors


def schema_errors(value: Any, schema: Mapping, path: str = "$") -> list[str]:
    """Every way `value` (parsed JSON) breaks `schema`, as "path: what"; [] when it conforms."""
    names = _type_names(schema)
    if names and not any(_is_type(value, name) for name in names):
        return [f"{path}: expected {' or '.join(names)}, got {_json_type(value)}"]
    errors = []
    if "enum" in schema and not any(same_json(value, option) for option in schema["enum"]):
        errors.append(f"{path}: {value!r} is not one of the allowed values")
    if "const" in schema and not same_json(value, schema["const"]):
        errors.append(f"{path}: must be {schema['const']!r}")
    if isinstance(value, dict):
        errors += _object_errors(value, schema, path)
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    errors += _bounds_errors(value, schema, path)
    if "anyOf" in schema and not any(not schema_errors(value, sub, path) for sub in schema["anyOf"]):
        errors.append(f"{path}: matches none of the anyOf schemas")
    return errors


def _json_type(value: Any) -> str:
    return next((name for name in TYPES if _is_type(value, name)), type(value).__name__)
