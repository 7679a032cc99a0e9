"""XML documents <-> botocore shapes, as REST-XML writes them: member `locationName`s,
flattened and wrapped lists, attributes, namespaces; timestamps in the model's formats."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from bcm_local.wire.errors import AwsError
from bcm_local.wire.model import ServiceModel, Shape
from bcm_local.wire.timestamps import format_time, parse_time

_BOUNDS = {"integer": 1 << 31, "long": 1 << 63}  # the model's int32 and int64


def whole_number(text: str, kind: str) -> int | None:
    """`text` as an integer of the model's `kind`; None when it is not one or out of range."""
    try:
        value = int(text)
    except ValueError:
        return None
    bound = _BOUNDS[kind]
    return value if -bound <= value < bound else None


class XmlShapes:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._encoders: dict[int, Encoder] = {}

    def decode(self, node: ElementTree.Element, shape: Shape) -> Any:
        kind = shape["type"]
        if kind == "structure":
            out: dict[str, Any] = {}
            for name, spec in shape.get("members", {}).items():
                member = self.model.shape(spec["shape"])
                tag = spec.get("locationName", name)
                if member["type"] == "list" and member.get("flattened"):
                    items = [c for c in node if local_name(c.tag) == tag]
                    if items:
                        inner = self.model.shape(member["member"]["shape"])
                        out[name] = [self.decode(c, inner) for c in items]
                    continue
                child = next((c for c in node if local_name(c.tag) == tag), None)
                if child is not None:
                    out[name] = self.decode(child, member)
            return out
        if kind == "list":
            inner = self.model.shape(shape["member"]["shape"])
            tag = shape["member"].get("locationName", "member")
            return [self.decode(c, inner) for c in node if local_name(c.tag) == tag]
        return self._scalar(shape, node.text or "")

    def _scalar(self, shape: Shape, text: str) -> Any:
        kind = shape["type"]
        if kind in ("integer", "long"):
            value = whole_number(text, kind)
            if value is None:
                raise malformed()
            return value
        try:
            if kind in ("double", "float"):
                return float(text)
        except ValueError:
            raise malformed() from None
        if kind == "boolean":
            return text.strip().lower() == "true"
        if kind == "timestamp":
            return parse_time(text, shape.get("timestampFormat", "iso8601"))
        return text

    def encode(self, tag: str, shape: Shape, value: Any, namespace: str | None = None) -> str:
        attrs = f" xmlns={quoteattr(namespace)}" if namespace else ""
        return self._encoder(shape)(tag, value, attrs)

    def _encoder(self, shape: Shape) -> Encoder:
        """The shape's encoder, compiled once (member lookups and formats resolved)."""
        found = self._encoders.get(id(shape))
        if found is None:
            # recursive shapes reach their own encoder through the cache while compiling
            self._encoders[id(shape)] = lambda tag, v, attrs="": self._encoders[id(shape)](
                tag, v, attrs
            )
            found = self._encoders[id(shape)] = self._compile(shape)
        return found

    def _compile(self, shape: Shape) -> Encoder:
        kind = shape["type"]
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            item = self._encoder(self.model.shape(shape["member"]["shape"]))
            item_tag = shape["member"].get("locationName", "member")

            def encode_list(tag: str, value: Any, attrs: str = "") -> str:
                return f"<{tag}{attrs}>{''.join([item(item_tag, v) for v in value])}</{tag}>"

            return encode_list
        text = _blob_text if kind == "blob" else text_of
        if kind == "timestamp":
            time_format = shape.get("timestampFormat", "iso8601")

            def text(value: Any) -> str:
                return format_time(value, time_format)

        def encode_scalar(tag: str, value: Any, attrs: str = "") -> str:
            return f"<{tag}{attrs}>{escape_text(text(value))}</{tag}>"

        return encode_scalar

    def _structure(self, shape: Shape) -> Encoder:
        fixed = ""
        ns = shape.get("xmlNamespace")
        if ns and ns.get("prefix"):
            fixed = f" xmlns:{ns['prefix']}={quoteattr(ns['uri'])}"
        members: list[tuple[str, str, int, Encoder | None]] = []
        for name, spec in shape.get("members", {}).items():
            if spec.get("location"):
                continue
            member = self.model.shape(spec["shape"])
            tag = spec.get("locationName", name)
            if spec.get("xmlAttribute"):
                members.append((name, tag, _ATTRIBUTE, None))
            elif member["type"] == "list" and member.get("flattened"):
                item = self.model.shape(member["member"]["shape"])
                members.append((name, tag, _FLAT, self._encoder(item)))
            else:
                members.append((name, tag, _ELEMENT, self._encoder(member)))

        def encode_structure(tag: str, value: Any, attrs: str = "") -> str:
            attrs += fixed
            inner: list[str] = []
            for name, child, mode, encoder in members:
                found = value.get(name)
                if found is None:
                    continue
                if encoder is None:
                    attrs += f" {child}={quoteattr(text_of(found))}"
                elif mode == _FLAT:
                    inner += [encoder(child, v) for v in found]
                else:
                    inner.append(encoder(child, found))
            return f"<{tag}{attrs}>{''.join(inner)}</{tag}>"

        return encode_structure


Encoder = Callable[..., str]  # (tag, value, attrs="") -> the element
_ELEMENT, _FLAT, _ATTRIBUTE = range(3)


def _blob_text(value: Any) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else text_of(value)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def escape_text(text: str) -> str:
    """XML text; characters XML 1.0 cannot carry at all become U+FFFD."""
    if _SPECIAL.search(text) is None:
        return text
    return escape(_NOT_XML.sub("\ufffd", text))


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def document(xml: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode("utf-8")


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def malformed() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
