"""AWS JSON 1.1: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`.

Parsing, validation and serialization are driven by the botocore model: the handler of
an operation receives the validated input members as keyword arguments and returns a
dict, from which only the members of the output shape are written.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from bcm_local.runtime import Context
from bcm_local.server.json_serializer import Serializer
from bcm_local.server.validate import Validator, summary
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError, log_internal
from bcm_local.wire.http import Response
from bcm_local.wire.model import Serialized, ServiceModel

log = logging.getLogger("bcm_local")

CONTENT_TYPE = "application/x-amz-json-1.1"


class JsonProtocol:
    def __init__(self, model: ServiceModel, operations: Mapping[str, Handler]) -> None:
        missing = set(operations) - set(model.operations)
        if missing:
            raise ValueError(f"operations not in the model: {sorted(missing)}")
        self.model = model
        self.operations = operations
        self.validator = Validator(model)
        self._serializer = Serializer(model)
        # a constraint failure is the model's ValidationException, or its
        # InvalidParameterException where it has no ValidationException (the Price List API)
        self._invalid = next(
            (c for c in ("ValidationException", "InvalidParameterException") if c in model.shapes),
            "ValidationException",
        )
        # the ValidationException's members, spelled as the model spells them (Reason and
        # Fields in Data Exports, reason and fieldList in Billing)
        error = model.shapes.get("ValidationException", {}).get("members", {})
        self._reason_key = next((k for k in ("Reason", "reason") if k in error), "")
        self._reason_field = bool(self._reason_key)
        self._fields_key = next((k for k in ("Fields", "fieldList") if k in error), "")
        field = model.shapes.get(error.get(self._fields_key, {}).get("shape", ""), {})
        item = model.shapes.get(field.get("member", {}).get("shape", ""), {}).get("members", {})
        self._field_keys = ("Name", "Message") if "Name" in item else ("name", "message")

    async def handle(self, ctx: Context, operation: str, body: bytes) -> Response:
        try:
            return await self._dispatch(ctx, operation, body)
        except AwsError as err:
            return self.error(err, ctx.request_id)
        except Exception as exc:
            log_internal(log, operation, exc)
            fault = next(
                (n for n, s in self.model.shapes.items() if s.get("fault")), "InternalFailure"
            )
            return self.error(AwsError(fault, "An internal error occurred."), ctx.request_id)

    async def _dispatch(self, ctx: Context, operation: str, body: bytes) -> Response:
        handler = self.operations.get(operation)
        if handler is None:
            raise AwsError("UnknownOperationException", "", status=400)
        op = self.model.operations[operation]
        params = self._parse(body)
        # members the input shape does not have are ignored, as AWS's JSON services do
        members = self.model.shape(op.input).get("members", {}) if op.input else {}
        params = {k: v for k, v in params.items() if k in members}
        if op.input:
            self._validate(op.input, params)
        result = handler(ctx, **params)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Serialized):
            return Response(200, self._headers(ctx.request_id), result.body)
        out = self.serialize(op.output, result) if op.output else {}
        return Response(200, self._headers(ctx.request_id), orjson.dumps(out))

    def _parse(self, body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        try:
            params = orjson.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise AwsError("SerializationException", "Malformed JSON request body.") from None
        if not isinstance(params, dict):
            raise AwsError("SerializationException", "Request body must be a JSON object.")
        return params

    def _validate(self, shape: str, params: dict[str, Any]) -> None:
        found = self.validator.check(shape, params)
        if not found:
            return
        typed = [f for f in found if f[0].is_type]
        if typed and not self._reason_field:
            raise AwsError("SerializationException", summary(typed))
        chosen = typed or found
        raise AwsError(
            self._invalid,
            summary(chosen),
            **self._validation_members(chosen, "cannotParse" if typed else "fieldValidationFailed"),
        )

    def _validation_members(self, found: list[Any], reason: str) -> dict[str, Any]:
        if not self._reason_field:
            return {}
        name, message = self._field_keys
        out: dict[str, Any] = {self._reason_key: reason}
        if self._fields_key:
            out[self._fields_key] = [{name: v.path, message: v.message} for v, _ in found]
        return out

    def serialize(self, shape_name: str, value: Any) -> Any:
        return self._serializer(shape_name, value)

    def error(self, err: AwsError, request_id: str) -> Response:
        status = err.status or self.model.error_status(err.code)
        body: dict[str, Any] = {"__type": err.code, "message": err.message}
        if err.code in self.model.shapes:
            body.update(self.serialize(err.code, {"Message": err.message, **err.members}))
        headers = [*self._headers(request_id), ("x-amzn-ErrorType", err.code)]
        return Response(status, headers, orjson.dumps(body))

    @staticmethod
    def _headers(request_id: str) -> list[tuple[str, str]]:
        return [("content-type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
