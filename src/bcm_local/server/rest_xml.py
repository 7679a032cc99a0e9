"""AWS REST-XML (S3's protocol), driven by the botocore model.

An incoming request is matched to an operation by its method, its path against the
operation's `requestUri` template and the query-string discriminators in it (`?uploads`,
`?list-type=2`); operations sharing a template are told apart by the required query and
header members present (`uploadId`, `x-amz-copy-source`). Members are bound from the URI,
query string, headers and the XML (or streaming) payload; a handler's dict is written
back the same way: header members to headers, the payload member (or the other body
members) as the body. Errors are S3's `<Error><Code/><Message/>...</Error>` documents.
"""

from __future__ import annotations

import base64
import inspect
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

from bcm_local.runtime import Context
from bcm_local.server.validate import Validator
from bcm_local.server.xml_shapes import (
    XmlShapes,
    document,
    escape_text,
    malformed,
    text_of,
    whole_number,
)
from bcm_local.wire.errors import AwsError, log_internal
from bcm_local.wire.http import BodyTimeout, BodyTooLarge, FileBody, Request, Response
from bcm_local.wire.model import Operation, ServiceModel, Shape
from bcm_local.wire.rest import STATUS, StreamingPayload
from bcm_local.wire.timestamps import format_time, parse_time

__all__ = ["RestXmlProtocol"]

log = logging.getLogger("bcm_local")

Handler = Callable[..., "dict[str, Any] | Response | Awaitable[dict[str, Any] | Response]"]
XML_TYPE = "application/xml"
XML_BODY_LIMIT = 16 << 20  # XML payloads (DeleteObjects with 1000 long keys) stay well below


@dataclass(frozen=True)
class _Route:
    op: Operation
    path: re.Pattern[str]
    literals: tuple[tuple[str, str | None], ...]
    required: tuple[tuple[str, str], ...]  # (location, lower-cased name)
    deprecated: bool

    def score(self, query: Mapping[str, str], headers: Mapping[str, str]) -> int | None:
        for name, value in self.literals:
            if name not in query or (value is not None and query[name] != value):
                return None
        for location, name in self.required:
            if name not in (query if location == "querystring" else headers):
                return None
        return len(self.literals) + len(self.required)


def _compile_path(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            name = part[1:-1]
            pattern += f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(part)
    if pattern.endswith(")") and not pattern.endswith(".+)"):
        pattern += "/?"  # `/bucket/` addresses the bucket like `/bucket`
    return re.compile(pattern + "$")


class RestXmlProtocol:
    def __init__(
        self,
        model: ServiceModel,
        operations: Mapping[str, Handler],
        roots: Mapping[str, str] | None = None,
        statuses: Mapping[str, int] | None = None,
    ) -> None:
        missing = set(operations) - set(model.operations)
        if missing:
            raise ValueError(f"operations not in the model: {sorted(missing)}")
        self.model = model
        self.operations = operations
        self.roots = roots or {}
        self.statuses = statuses or {}
        self.namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
        self.validator = Validator(model)
        self.shapes = XmlShapes(model)
        self.routes: dict[str, list[_Route]] = {}
        for op in model.operations.values():
            route = self._route(op)
            self.routes.setdefault(op.http["method"], []).append(route)
        # what routing depends on, for the cache of decisions in `match`
        self._patterns = {
            method: tuple({r.path.pattern: r.path for r in routes}.values())
            for method, routes in self.routes.items()
        }
        every = [r for routes in self.routes.values() for r in routes]
        self._query_names = {n for r in every for n, _ in r.literals}
        self._query_names |= {n for r in every for loc, n in r.required if loc == "querystring"}
        self._valued = {n for r in every for n, v in r.literals if v is not None}
        self._header_names = sorted({n for r in every for loc, n in r.required if loc == "header"})
        self._decisions: dict[tuple[Any, ...], _Route | None] = {}
        self._members: dict[str, tuple[tuple[str, Shape, Shape], ...]] = {}

    def _route(self, op: Operation) -> _Route:
        path, _, query = op.http["requestUri"].partition("?")
        literals = tuple(
            (name, value if sep else None)
            for name, sep, value in (q.partition("=") for q in query.split("&") if q)
        )
        shape = self.model.shape(op.input) if op.input else {}
        required = tuple(
            (spec["location"], _lower_header(spec["location"], spec["locationName"]))
            for name, spec in shape.get("members", {}).items()
            if name in shape.get("required", ())
            and spec.get("location") in ("querystring", "header")
        )
        deprecated = bool(op.spec.get("deprecated"))
        return _Route(op, _compile_path(path), literals, required, deprecated)

    def match(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[Operation, dict[str, str]] | None:
        key = (
            method,
            tuple(p.match(path) is not None for p in self._patterns.get(method, ())),
            tuple(
                sorted((n, v if n in self._valued else "") for n, v in query.items()
                       if n in self._query_names)
            ),
            tuple(n for n in self._header_names if n in headers),
        )  # fmt: skip
        if key in self._decisions:
            route = self._decisions[key]
        else:
            route = self._choose(method, path, query, headers)
            if len(self._decisions) < 4096:
                self._decisions[key] = route
        found = route.path.match(path) if route else None
        return (route.op, found.groupdict()) if route and found else None

    def _choose(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Route | None:
        best: tuple[tuple[int, bool, bool], _Route] | None = None
        for route in self.routes.get(method, ()):
            found = route.path.match(path)
            score = route.score(query, headers) if found else None
            if found is None or score is None:
                continue
            rank = (score, route.op.name in self.operations, not route.deprecated)
            if best is None or rank > best[0]:
                best = (rank, route)
        return best[1] if best else None

    # -- requests -----------------------------------------------------------------------

    async def handle(self, ctx: Context, request: Request, path: str) -> Response:
        operation = "Unknown"
        try:
            query = dict(parse_qsl(request.query_string, keep_blank_values=True))
            matched = self.match(request.method, path, query, request.headers)
            if matched is None:
                raise AwsError(
                    "MethodNotAllowed", "The specified method is not allowed against this resource."
                )
            op, labels = matched
            operation = op.name
            handler = self.operations.get(op.name)
            if handler is None:
                raise AwsError(
                    "NotImplemented",
                    f"{op.name} is not implemented by this emulator.",
                    status=501,
                )
            params = await self.parse(op, labels, query, request)
            result = handler(ctx, **params)
            if inspect.isawaitable(result):
                result = await result
            response = result if isinstance(result, Response) else self.serialize(op, result)
        except AwsError as err:
            response = self.error(err, ctx.request_id)
        except (BodyTooLarge, BodyTimeout) as exc:
            response = self.error(_body_error(exc), ctx.request_id)
        except Exception as exc:
            log_internal(log, operation, exc)
            fault = AwsError("InternalError", "We encountered an internal error. Please try again.")
            response = self.error(fault, ctx.request_id)
        response.operation = response.operation or operation
        return self._finish(ctx, request, response)

    def reject(self, ctx: Context, request: Request, err: AwsError) -> Response:
        """Answer `err` before routing (a request strict mode refuses)."""
        return self._finish(ctx, request, self.error(err, ctx.request_id))

    def _finish(self, ctx: Context, request: Request, response: Response) -> Response:
        response.headers += self.id_headers(ctx.request_id)
        if response.status >= 300 and _has_body(request):
            # the body may be unread (or, after `Expect: 100-continue`, never sent): the
            # connection cannot carry another request
            response.headers.append(("Connection", "close"))
        return response

    async def parse(
        self, op: Operation, labels: dict[str, str], query: Mapping[str, str], request: Request
    ) -> dict[str, Any]:
        if not op.input:
            return {}
        shape = self.model.shape(op.input)
        params: dict[str, Any] = {}
        for name, spec, member in self._located_members(op.input):
            value = self._located(spec, member, labels, query, request)
            if value is not None:
                params[name] = value
        payload = shape.get("payload")
        if payload:
            spec = shape["members"][payload]
            target = self.model.shape(spec["shape"])
            if target["type"] == "blob" and spec.get("streaming", target.get("streaming")):
                params[payload] = StreamingPayload(request.headers, request)
            elif target["type"] == "structure":
                value = await self._xml_payload(request, spec["shape"])
                if value is not None:
                    params[payload] = value
        return params

    def _located_members(self, input_shape: str) -> tuple[tuple[str, Shape, Shape], ...]:
        """(name, spec, shape) of the input's members that HTTP locates (uri, query, headers)."""
        found = self._members.get(input_shape)
        if found is None:
            members = self.model.shape(input_shape).get("members", {})
            found = self._members[input_shape] = tuple(
                (name, spec, self.model.shape(spec["shape"]))
                for name, spec in members.items()
                if spec.get("location") in ("uri", "querystring", "header", "headers")
            )
        return found

    def _located(
        self,
        spec: Shape,
        shape: Shape,
        labels: dict[str, str],
        query: Mapping[str, str],
        request: Request,
    ) -> Any:
        location, name = spec.get("location"), spec.get("locationName", "")
        if location == "uri":
            raw = labels.get(name)
            return None if raw is None else _uri_decode(raw)
        if location == "querystring":
            raw = query.get(name)
            return None if raw is None else self._scalar(shape, raw, name, "iso8601")
        if location == "header":
            raw = request.headers.get(name.lower())
            return None if raw is None else self._scalar(shape, raw, name, "rfc822")
        if location == "headers":
            prefix = name.lower()
            found = {
                k[len(prefix) :]: v for k, v in request.headers.items() if k.startswith(prefix)
            }
            return found or None
        return None

    def _scalar(self, shape: Shape, raw: str, name: str, time_format: str) -> Any:
        kind = shape["type"]
        if kind == "list":
            inner = self.model.shape(shape["member"]["shape"])
            return [self._scalar(inner, v.strip(), name, time_format) for v in raw.split(",")]
        if kind == "string" and shape.get("enum"):
            # clients differ in case (the C++ SDK sends `x-amz-checksum-mode: enabled`)
            canonical = next((e for e in shape["enum"] if e.lower() == raw.lower()), None)
            if canonical is None:
                raise AwsError("InvalidArgument", f"Invalid value for {name}: {raw!r}")
            return canonical
        if kind in ("integer", "long"):
            value = whole_number(raw, kind)
            if value is None:
                message = f"Provided {name} not an integer or within integer range"
                raise AwsError("InvalidArgument", message, ArgumentName=name, ArgumentValue=raw)
            return value
        if kind == "boolean":
            return raw.strip().lower() == "true"
        if kind == "timestamp":
            return parse_time(raw, shape.get("timestampFormat", time_format))
        return raw

    async def _xml_payload(self, request: Request, shape_name: str) -> dict[str, Any] | None:
        request.max_body = min(request.max_body, XML_BODY_LIMIT)
        body = await request.body()
        if not body.strip():
            return None
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise malformed() from None
        value = self.shapes.decode(root, self.model.shape(shape_name))
        # shape and required members only: the service judges values (InvalidLocationConstraint)
        if any("enum" not in v.message for v, _ in self.validator.check(shape_name, value)):
            raise malformed()
        if not isinstance(value, dict):
            raise malformed()
        return value

    # -- responses ----------------------------------------------------------------------

    def serialize(self, op: Operation, result: Mapping[str, Any]) -> Response:
        response = Response(int(result.get(STATUS) or op.http.get("responseCode") or 200))
        if not op.output:
            return response
        shape = self.model.shape(op.output)
        members = shape.get("members", {})
        body_members: dict[str, Any] = {}
        for name, value in result.items():
            spec = members.get(name)
            if spec is None or value is None:
                continue
            location = spec.get("location")
            if location == "header":
                response.headers.append((spec["locationName"], self._header_value(spec, value)))
            elif location == "headers":
                prefix = spec.get("locationName", "")
                response.headers += [(prefix + k, str(v)) for k, v in value.items()]
            elif location == "statusCode":
                response.status = int(value)
            elif name == shape.get("payload"):
                self._payload(response, spec, value)
            else:
                body_members[name] = value
        if body_members and not shape.get("payload"):
            root = self.roots.get(op.name, op.output.removesuffix("Output") + "Result")
            if list(body_members) == [root]:  # the document is that one value (GetBucketLocation)
                xml = self.shapes.encode(root, self.model.shape(members[root]["shape"]),
                                  body_members[root], self.namespace)  # fmt: skip
            else:
                xml = self.shapes.encode(root, shape, body_members, self.namespace)
            response.body = document(xml)
            response.headers.append(("Content-Type", XML_TYPE))
        return response

    def _payload(self, response: Response, spec: Shape, value: Any) -> None:
        if isinstance(value, FileBody):
            response.file = value
        elif isinstance(value, bytes):
            response.body = value
        else:
            shape = self.model.shape(spec["shape"])
            root = str(spec.get("locationName", spec["shape"]))
            response.body = document(self.shapes.encode(root, shape, value, self.namespace))
            response.headers.append(("Content-Type", XML_TYPE))

    def _header_value(self, spec: Shape, value: Any) -> str:
        shape = self.model.shape(spec["shape"])
        if shape["type"] == "timestamp":
            return format_time(value, shape.get("timestampFormat", "rfc822"))
        if shape["type"] == "list":
            return ",".join(str(v) for v in value)
        return text_of(value)

    def error(self, err: AwsError, request_id: str) -> Response:
        status = err.status or self.statuses.get(err.code) or self.model.error_status(err.code)
        fields = [("Code", err.code), ("Message", err.message), *err.members.items()]
        fields += [("RequestId", s3_request_id(request_id)), ("HostId", host_id())]
        inner = "".join(f"<{k}>{escape_text(text_of(v))}</{k}>" for k, v in fields if v is not None)
        headers = [("Content-Type", XML_TYPE)]
        return Response(status, headers, document(f"<Error>{inner}</Error>"))

    @staticmethod
    def id_headers(request_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", s3_request_id(request_id)), ("x-amz-id-2", host_id())]


def s3_request_id(request_id: str) -> str:
    return request_id.replace("-", "").upper()[:16]


def host_id() -> str:
    return base64.b64encode(os.urandom(48)).decode()


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "0")
    return length not in ("", "0") or "transfer-encoding" in request.headers


def _lower_header(location: str, name: str) -> str:
    return name.lower() if location == "header" else name


def _uri_decode(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise AwsError("InvalidURI", "Couldn't parse the specified URI.") from None


def _body_error(exc: Exception) -> AwsError:
    if isinstance(exc, BodyTooLarge):
        return AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    return AwsError(
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within "
        "the timeout period.",
    )
