"""Input validation compiled from botocore shapes, with Coral-style messages.

`Validator(model).check(shape_name, value)` returns the list of violations; a type
mismatch is reported separately from a constraint failure because AWS answers the two
differently (the JSON protocol maps them to `cannotParse` and `fieldValidationFailed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bcm_local.wire.model import ServiceModel


@dataclass(frozen=True)
class Violation:
    path: str
    message: str
    is_type: bool = False

    def sentence(self, value: Any) -> str:
        return f"Value {_show(value)} at '{self.path}' failed to satisfy constraint: {self.message}"


Check = Callable[[Any, str, list[tuple[Violation, Any]]], None]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 128:
        text = text[:128] + "..."
    return f"'{text}'"


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}


class Validator:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._compiled: dict[str, Check] = {}

    def check(self, shape_name: str, value: Any) -> list[tuple[Violation, Any]]:
        found: list[tuple[Violation, Any]] = []
        self._checker(shape_name)(value, "", found)
        return found

    def _checker(self, name: str) -> Check:
        if name not in self._compiled:
            # placeholder breaks recursion for self-referencing shapes
            self._compiled[name] = lambda v, p, f: self._compiled[name](v, p, f)
            self._compiled[name] = self._compile(self.model.shape(name))
        return self._compiled[name]

    def _compile(self, shape: dict[str, Any]) -> Check:
        kind = shape["type"]
        expected = _PY_TYPES.get(kind, (object,))
        inner = self._inner(shape)

        def check(value: Any, path: str, found: list[tuple[Violation, Any]]) -> None:
            bad_bool = kind in ("integer", "long", "double", "float") and isinstance(value, bool)
            if not isinstance(value, expected) or bad_bool:
                found.append((Violation(path, f"Member must be of type {kind}", True), value))
                return
            inner(value, path, found)

        return check

    def _inner(self, shape: dict[str, Any]) -> Check:
        kind = shape["type"]
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._sized(shape, self._list(shape))
        if kind == "map":
            return self._sized(shape, self._map(shape))
        if kind == "string":
            return self._sized(shape, self._string(shape))
        if kind in ("integer", "long", "double", "float"):
            return _range(shape)
        return lambda v, p, f: None

    def _structure(self, shape: dict[str, Any]) -> Check:
        members = {
            m: (_camel(m), self._lazy(spec["shape"]))
            for m, spec in shape.get("members", {}).items()
            if spec.get("location") in (None, "")
        }
        required = [m for m in shape.get("required", []) if m in members]

        def check(value: dict[str, Any], path: str, found: list[tuple[Violation, Any]]) -> None:
            for m in required:
                if value.get(m) is None:
                    where = f"{path}.{_camel(m)}" if path else _camel(m)
                    found.append((Violation(where, "Member must not be null"), None))
            for m, v in value.items():
                if m in members and v is not None:
                    camel, sub = members[m]
                    sub(v, f"{path}.{camel}" if path else camel, found)

        return check

    def _lazy(self, name: str) -> Check:
        return lambda v, p, f: self._checker(name)(v, p, f)

    def _list(self, shape: dict[str, Any]) -> Check:
        member = self._lazy(shape["member"]["shape"])

        def check(value: list[Any], path: str, found: list[tuple[Violation, Any]]) -> None:
            for i, item in enumerate(value):
                member(item, f"{path}.{i + 1}.member", found)

        return check

    def _map(self, shape: dict[str, Any]) -> Check:
        key, val = self._lazy(shape["key"]["shape"]), self._lazy(shape["value"]["shape"])

        def check(value: dict[str, Any], path: str, found: list[tuple[Violation, Any]]) -> None:
            for k, v in value.items():
                key(k, f"{path}.key", found)
                if v is not None:
                    val(v, f"{path}.{k}", found)

        return check

    def _string(self, shape: dict[str, Any]) -> Check:
        enum = shape.get("enum")
        pattern = python_pattern(shape["pattern"]) if "pattern" in shape else None
        enum_set = set(enum or ())

        def check(value: str, path: str, found: list[tuple[Violation, Any]]) -> None:
            if enum and value not in enum_set:
                found.append(
                    (
                        Violation(path, f"Member must satisfy enum value set: [{', '.join(enum)}]"),
                        value,
                    )
                )
            elif pattern and not pattern.fullmatch(value):
                msg = f"Member must satisfy regular expression pattern: {pattern.pattern}"
                found.append((Violation(path, msg), value))

        return check

    @staticmethod
    def _sized(shape: dict[str, Any], then: Check) -> Check:
        low, high = shape.get("min"), shape.get("max")
        if low is None and high is None:
            return then

        def check(value: Any, path: str, found: list[tuple[Violation, Any]]) -> None:
            if low is not None and len(value) < low:
                found.append(
                    (
                        Violation(path, f"Member must have length greater than or equal to {low}"),
                        value,
                    )
                )
            elif high is not None and len(value) > high:
                found.append(
                    (
                        Violation(path, f"Member must have length less than or equal to {high}"),
                        value,
                    )
                )
            else:
                then(value, path, found)

        return check


def _range(shape: dict[str, Any]) -> Check:
    low, high = shape.get("min"), shape.get("max")

    def check(value: float, path: str, found: list[tuple[Violation, Any]]) -> None:
        if low is not None and value < low:
            found.append(
                (Violation(path, f"Member must have value greater than or equal to {low}"), value)
            )
        elif high is not None and value > high:
            found.append(
                (Violation(path, f"Member must have value less than or equal to {high}"), value)
            )

    return check


# Java's Unicode classes, which some models' patterns use (Cost Explorer's names), in
# Python's terms: letters and numbers are word characters, separators are spaces
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s"}


def python_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's pattern as a Python regex; None (not checked) when Python cannot read it,
    so an odd pattern never turns a request into an internal error."""
    text = pattern
    for java, python in _JAVA_CLASSES.items():
        text = text.replace(java, python)
    text = re.sub(r"(\\[ws])-(?!\])", r"\1\\-", text)  # "\s-_": a hyphen, not a range
    try:
        return re.compile(text)
    except re.error:
        return None


def summary(found: list[tuple[Violation, Any]]) -> str:
    count = len(found)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(v.sentence(val) for v, val in found)
