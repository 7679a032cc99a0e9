"""XML documents <-> botocore shapes, as REST-XML writes them: member `locationName`s,
flattened and wrapped lists, attributes, namespaces; timestamps in the model's formats."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from bcm_local.server.errors import AwsError
from bcm_local.server.model import ServiceModel, Shape


class XmlShapes:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model

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
        try:
            if kind in ("integer", "long"):
                return int(text)
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
        kind = shape["type"]
        attrs = f" xmlns={quoteattr(namespace)}" if namespace else ""
        if kind == "structure":
            ns = shape.get("xmlNamespace")
            if ns and ns.get("prefix"):
                attrs += f" xmlns:{ns['prefix']}={quoteattr(ns['uri'])}"
            inner = []
            for name, spec in shape.get("members", {}).items():
                if value.get(name) is None or spec.get("location"):
                    continue
                member = self.model.shape(spec["shape"])
                child_tag = spec.get("locationName", name)
                if spec.get("xmlAttribute"):
                    attrs += f" {child_tag}={quoteattr(text_of(value[name]))}"
                elif member["type"] == "list" and member.get("flattened"):
                    item = self.model.shape(member["member"]["shape"])
                    inner += [self.encode(child_tag, item, v) for v in value[name]]
                else:
                    inner.append(self.encode(child_tag, member, value[name]))
            return f"<{tag}{attrs}>{''.join(inner)}</{tag}>"
        if kind == "list":
            item = self.model.shape(shape["member"]["shape"])
            item_tag = shape["member"].get("locationName", "member")
            inner_xml = "".join(self.encode(item_tag, item, v) for v in value)
            return f"<{tag}{attrs}>{inner_xml}</{tag}>"
        if kind == "timestamp":
            value = format_time(value, shape.get("timestampFormat", "iso8601"))
        elif kind == "blob" and isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        return f"<{tag}{attrs}>{escape_text(text_of(value))}</{tag}>"


def parse_time(raw: str, time_format: str) -> float | None:
    """Epoch seconds of a header/XML timestamp; None when it does not parse (AWS ignores it)."""
    try:
        if time_format == "rfc822":
            return parsedate_to_datetime(raw).timestamp()
        if time_format == "unixTimestamp":
            return float(raw)
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def format_time(value: float | datetime, time_format: str) -> str:
    epoch = value.timestamp() if isinstance(value, datetime) else float(value)
    if time_format == "rfc822":
        return formatdate(epoch, usegmt=True)
    if time_format == "unixTimestamp":
        return str(int(epoch))
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def escape_text(text: str) -> str:
    """XML text; characters XML 1.0 cannot carry at all become U+FFFD."""
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
