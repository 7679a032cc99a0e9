"""Hypothesis strategies built from botocore shapes: near-valid inputs with random damage.

Every node is usually a value of the shape's type (enums sampled, patterns honoured
where cheap, lengths around the limits) and sometimes a value of the wrong type, a
null, or a huge string, and a structure sometimes has members its shape does not have,
so generated requests probe both validation and the handlers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bcm_local.wire.model import ServiceModel

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.just("a" * 40_000),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _string(shape: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in shape:
        return st.one_of(st.sampled_from(shape["enum"]), st.text(max_size=12))
    low, high = shape.get("min", 0), min(shape.get("max", 64), 64)
    plain = st.text(alphabet="abcXYZ019-_", min_size=low, max_size=max(low, high))
    weird = st.text(min_size=0, max_size=high + 2)
    return st.one_of(plain, plain, weird)


EXTRA_NAMES = st.one_of(st.sampled_from(["ctx", "self", "kwargs", "Extra"]), st.text(max_size=8))


def _with_extra_members(found: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The structure with members its shape does not have (AWS ignores them)."""
    extra = st.dictionaries(EXTRA_NAMES, JUNK, min_size=1, max_size=2)
    return extra.map(lambda more: {**more, **found})


def strategy(model: ServiceModel, name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    shape = model.shape(name)
    kind = shape["type"]
    if depth > 6:
        return st.none()
    if kind == "structure":
        members = {
            m: strategy(model, spec["shape"], depth + 1)
            for m, spec in shape.get("members", {}).items()
            if spec.get("location") in (None, "")
        }
        required = {m: v for m, v in members.items() if m in shape.get("required", [])}
        optional = {m: v for m, v in members.items() if m not in required}
        value: st.SearchStrategy[Any] = st.fixed_dictionaries(required, optional=optional)
        value = st.one_of(value, value, value, value.flatmap(_with_extra_members))
    elif kind == "list":
        value = st.lists(strategy(model, shape["member"]["shape"], depth + 1), max_size=3)
    elif kind == "map":
        value = st.dictionaries(
            st.text(max_size=8), strategy(model, shape["value"]["shape"], depth + 1), max_size=3
        )
    elif kind == "string":
        value = _string(shape)
    elif kind in ("integer", "long"):
        value = st.integers(min_value=-5, max_value=400)
    elif kind == "boolean":
        value = st.booleans()
    else:
        value = st.one_of(st.integers(), st.floats(allow_nan=False))
    return st.one_of(value, value, value, JUNK) if depth else value
