"""Turning YAML and plain dicts into a checked `Recipe`, and back.

A bad recipe is reported whole: every unknown key, wrong type, out-of-range value and incompatible combination,
each named by its dotted path and, for YAML files, its line — never a stack trace from deep inside a library.
"""

from __future__ import annotations

import dataclasses
import difflib
import operator
import os
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Union

import yaml

from studio.config import SECTION_METHODS, SECTIONS, Recipe, relevant_sections
from studio.workspace import atomic_write_text


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.path}: {self.message}"


class RecipeError(ValueError):
    """All the problems of one recipe; `errors` is the list, str() is a message for people."""

    def __init__(self, errors: list[FieldError], source: str | None = None):
        self.errors = errors
        self.source = source
        head = f"{source}: " if source else ""
        noun = "problem" if len(errors) == 1 else "problems"
        super().__init__(f"{head}{len(errors)} {noun} in the recipe:\n" + "\n".join(f"  - {e}" for e in errors))


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is list:
        return "a list of " + _describe(typing.get_args(annotation)[0]) + "s"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _fits(value: Any, annotation: Any) -> bool:
    try:
        _coerce(value, annotation)
    except TypeError:
        return False
    return True


def _coerce(value: Any, annotation: Any) -> Any:
    """Return `value` converted to `annotation`, or raise TypeError with the expected type."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg)
            except TypeError:
                continue
    elif origin is Literal:
        if value in typing.get_args(annotation):
            return value
    elif origin is list:
        (item,) = typing.get_args(annotation)
        if isinstance(value, str):  # a single name where a list is expected is what people type
            value = [value]
        if isinstance(value, list) and all(_fits(v, item) for v in value):
            return [_coerce(v, item) for v in value]
    elif annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        # PyYAML reads 1e-4 (no dot) as a string; recipes write learning rates that way all the time.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, str):
            return value
    raise TypeError(f"expected {_describe(annotation)}, got {value!r}")


_LIMITS = (("ge", ">=", operator.ge), ("gt", ">", operator.gt), ("le", "<=", operator.le), ("lt", "<", operator.lt))


def _range_message(value: Any, meta: Mapping[str, Any]) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    for key, symbol, holds in _LIMITS:
        bound = meta.get(key)
        if bound is not None and not holds(value, bound):
            return f"must be {symbol} {bound}, got {value}"
    return None


def _unknown_key(path: str, key: str, known: list[str], line: int | None) -> FieldError:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
    return FieldError(path, f"unknown key{hint}", line)


def _build(cls: type, raw: Any, prefix: str, lines: Mapping[str, int], errors: list[FieldError]) -> Any:
    """Build dataclass `cls` from `raw`, appending every problem to `errors` and using defaults for bad fields."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        errors.append(FieldError(prefix.rstrip("."), "expected a mapping of settings", lines.get(prefix.rstrip("."))))
        return cls()
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    for key in raw:
        if key not in known:
            errors.append(_unknown_key(prefix + str(key), str(key), known, lines.get(prefix + str(key))))
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        path = prefix + f.name
        if is_dataclass(hints[f.name]):
            values[f.name] = _build(hints[f.name], raw[f.name], path + ".", lines, errors)
            continue
        try:
            value = _coerce(raw[f.name], hints[f.name])
        except TypeError as exc:
            errors.append(FieldError(path, str(exc), lines.get(path)))
            continue
        problem = _range_message(value, f.metadata)
        if problem:
            errors.append(FieldError(path, problem, lines.get(path)))
            continue
        values[f.name] = value
    return cls(**values)


def recipe_from_dict(raw: Any, lines: Mapping[str, int] | None = None, source: str | None = None) -> Recipe:
    """Check `raw` completely and return the Recipe, or raise RecipeError listing every problem."""
    from studio.recipe_checks import check_recipe  # cross-field rules live apart; they import this module's types

    lines = lines or {}
    errors: list[FieldError] = []
    recipe = _build(Recipe, raw, "", lines, errors)
    if isinstance(raw, Mapping):
        for section, methods in SECTION_METHODS.items():
            if section in raw and recipe.method not in methods:
                errors.append(FieldError(section, f"applies only to method {' or '.join(methods)}, not "
                                                  f"'{recipe.method}'; change the method or remove this section",
                                         lines.get(section)))
    errors.extend(dataclasses.replace(e, line=e.line or lines.get(e.path)) for e in check_recipe(recipe))
    if errors:
        raise RecipeError(sorted(errors, key=lambda e: (e.line is None, e.line or 0)), source)
    return recipe


def _key_lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """Map each dotted key path of a YAML mapping to its 1-based line, for error messages."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = prefix + str(key_node.value)
            out[path] = key_node.start_mark.line + 1
            out.update(_key_lines(value_node, path + "."))
    return out


def recipe_from_yaml(text: str, source: str | None = None) -> Recipe:
    try:
        raw = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RecipeError([FieldError("(yaml)", f"not valid YAML: {getattr(exc, 'problem', exc)}", line)],
                          source) from None
    if raw is None:
        raw = {}
    return recipe_from_dict(raw, lines, source)


def load_recipe(path: str | os.PathLike) -> Recipe:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError([FieldError("(file)", "no such file; check the path")], str(p)) from None
    except UnicodeDecodeError as exc:
        raise RecipeError([FieldError("(file)", f"not UTF-8 text ({exc.reason} at byte {exc.start})")],
                          str(p)) from None
    return recipe_from_yaml(text, source=str(p))


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """Plain data for YAML/JSON; sections the method does not use are left out so the result loads again."""
    full = dataclasses.asdict(recipe)
    keep = set(relevant_sections(recipe.method))
    return {k: v for k, v in full.items() if k not in SECTIONS or k in keep}


def recipe_to_yaml(recipe: Recipe, header: str | None = None) -> str:
    body = yaml.safe_dump(recipe_to_dict(recipe), sort_keys=False, allow_unicode=True, default_flow_style=False)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in (header or "").splitlines())
    return comment + body


def save_recipe(recipe: Recipe, path: str | os.PathLike, header: str | None = None) -> Path:
    """Write the recipe atomically; it is checked first so a saved recipe always loads."""
    recipe_from_dict(recipe_to_dict(recipe))
    atomic_write_text(path, recipe_to_yaml(recipe, header))
    return Path(path)
