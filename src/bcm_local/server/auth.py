"""Who is calling: account and region from the SigV4 credential, as AWS emulators do.

An access key of 12 digits is used as the account id; any other key (`test`, real-looking
`AKIA…`) means the default account 000000000000. The region comes from the credential
scope (`<key>/<date>/<region>/<service>/aws4_request`), in the header or a presigned URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bcm_local.runtime import DEFAULT_ACCOUNT

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(r"^([^/]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request$")
_V2 = re.compile(r"^AWS ([^:\s]+):")


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    region: str
    signed: bool


def account_for(access_key: str) -> str:
    return access_key if len(access_key) == 12 and access_key.isdigit() else DEFAULT_ACCOUNT


def identify(authorization: str, query_credential: str, default_region: str) -> Caller:
    match = _CREDENTIAL.search(authorization) or _QUERY_CREDENTIAL.match(query_credential)
    if match:
        key, region = match.group(1), match.group(2)
        return Caller(key, account_for(key), region, True)
    v2 = _V2.match(authorization)
    if v2:
        return Caller(v2.group(1), account_for(v2.group(1)), default_region, True)
    return Caller("", DEFAULT_ACCOUNT, default_region, False)
