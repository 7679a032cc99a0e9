"""Resource tags shared by every service: key/value pairs in, key/value pairs out.

Tags live in the store's `tags` namespace, one record per tag under
`<accountId>::<resourceArn>::<key>`, so a resource's tags are account-scoped, keep their
insertion order (overwriting a value keeps the tag's place) and page like any listing.
The limits are AWS's: at most 200 tags per resource, keys 1-128 characters, values at
most 256, keys unique within a request, and the `aws:` prefix reserved for AWS.
Violations raise `ValidationException` naming the request field they came from.
Callers check that the resource exists; nothing here knows any service's shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bcm_local.services import pagination
from bcm_local.store import Store
from bcm_local.wire.errors import AwsError, validation_error

NS = "tags"
MAX_TAGS = 200
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"

Pair = tuple[str, str]


def _prefix(account_id: str, arn: str) -> str:
    return f"{account_id}::{arn}::"


def _invalid(field: str, message: str) -> AwsError:
    return validation_error(message, fields=[(field, message)])


def check(pairs: Iterable[Pair], field: str = "tags") -> list[Pair]:
    """The pairs of one request, validated; `field` names the request member in errors."""
    checked = list(pairs)
    if len(checked) > MAX_TAGS:
        raise _invalid(field, f"A resource can have at most {MAX_TAGS} tags.")
    seen: set[str] = set()
    for key, value in checked:
        if not 1 <= len(key) <= MAX_KEY:
            raise _invalid(field, f"Tag key '{key}' must be 1 to {MAX_KEY} characters long.")
        if len(value) > MAX_VALUE:
            raise _invalid(field, f"Value of tag '{key}' must be at most {MAX_VALUE} characters.")
        if key.lower().startswith(RESERVED_PREFIX):
            raise _invalid(field, f"Tag key '{key}' uses the reserved prefix '{RESERVED_PREFIX}'.")
        if key in seen:
            raise _invalid(field, f"Tag key '{key}' appears more than once in the request.")
        seen.add(key)
    return checked


def check_keys(keys: Iterable[str], field: str = "tagKeys") -> list[str]:
    checked = list(keys)
    if len(checked) > MAX_TAGS:
        raise _invalid(field, f"At most {MAX_TAGS} tag keys can be removed at once.")
    for key in checked:
        if not 1 <= len(key) <= MAX_KEY:
            raise _invalid(field, f"Tag key '{key}' must be 1 to {MAX_KEY} characters long.")
    return checked


def add(
    store: Store, account_id: str, arn: str, pairs: Iterable[Pair], field: str = "tags"
) -> None:
    """Add or overwrite tags; the resource may end up with at most MAX_TAGS of them."""
    checked = check(pairs, field)
    prefix = _prefix(account_id, arn)
    with store.transaction():
        existing = {r.key[len(prefix) :] for r in store.scan(NS, prefix)}
        added = {key for key, _ in checked} - existing
        if len(existing) + len(added) > MAX_TAGS:
            raise _invalid(
                field,
                f"A resource can have at most {MAX_TAGS} tags; it has {len(existing)} "
                f"and the request adds {len(added)}.",
            )
        for key, value in checked:
            store.put(NS, prefix + key, {"Key": key, "Value": value})


def remove(
    store: Store, account_id: str, arn: str, keys: Iterable[str], field: str = "tagKeys"
) -> None:
    """Remove tags by key; keys the resource does not have are ignored, as in AWS."""
    checked = check_keys(keys, field)
    prefix = _prefix(account_id, arn)
    with store.transaction():
        for key in checked:
            store.delete(NS, prefix + key)


def tags_of(store: Store, account_id: str, arn: str) -> list[Pair]:
    return [(r.value["Key"], r.value["Value"]) for r in store.scan(NS, _prefix(account_id, arn))]


def page(
    store: Store,
    account_id: str,
    arn: str,
    max_results: int,
    token: str | None,
    on_bad_token: Callable[[str], Exception],
) -> tuple[list[Pair], str | None]:
    rows, next_token = pagination.page(
        store, NS, _prefix(account_id, arn), max_results, token, on_bad_token
    )
    return [(r.value["Key"], r.value["Value"]) for r in rows], next_token


def drop(store: Store, account_id: str, arn: str) -> int:
    """Remove every tag of a deleted resource (joins the caller's transaction)."""
    return store.delete_prefix(NS, _prefix(account_id, arn))
