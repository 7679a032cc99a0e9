"""AWS's combination rules for a report definition, the ones the model cannot express.

Real AWS answers every broken combination with a ValidationException whose message is
empty; bcm-local says which rule was broken, in AWS's vocabulary, because an emulator
that explains itself is more useful and no client parses these messages.
"""

from __future__ import annotations

from typing import Any

from bcm_local.wire.errors import AwsError

# Fields AWS (and so CloudFormation and Terraform) treat as fixed once a report exists.
CREATE_ONLY = ("TimeUnit", "AdditionalSchemaElements", "ReportVersioning", "BillingViewArn")
_CSV_ONLY_ARTIFACTS = ("REDSHIFT", "QUICKSIGHT")


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def check(definition: dict[str, Any], account_id: str) -> None:
    """Raise the error AWS returns for the first broken rule, if any."""
    fmt, compression = definition["Format"], definition["Compression"]
    if (fmt == "Parquet") != (compression == "Parquet"):
        raise invalid(
            f"Compression {compression} cannot be used with Format {fmt}: Parquet reports use "
            "Parquet compression, textORcsv reports use ZIP or GZIP."
        )
    artifacts = definition["AdditionalArtifacts"]
    if "ATHENA" in artifacts:
        _check_athena(definition)
    csv_only = [a for a in artifacts if a in _CSV_ONLY_ARTIFACTS]
    if csv_only and fmt == "Parquet":
        raise invalid(f"{' and '.join(csv_only)} cannot be used with Format Parquet.")
    _check_billing_view(definition.get("BillingViewArn"), account_id)


def _check_athena(definition: dict[str, Any]) -> None:
    if definition["AdditionalArtifacts"] != ["ATHENA"]:
        raise invalid("ATHENA cannot be combined with other AdditionalArtifacts.")
    if definition["Format"] != "Parquet":
        raise invalid("ATHENA requires Format Parquet and Compression Parquet.")
    if definition["ReportVersioning"] != "OVERWRITE_REPORT":
        raise invalid("ATHENA requires ReportVersioning OVERWRITE_REPORT.")
    if not definition["S3Prefix"]:
        raise invalid("ATHENA requires a non-empty S3Prefix.")


def _check_billing_view(arn: str | None, account_id: str) -> None:
    """A billing view ARN names its owner; only the caller's own views exist for it."""
    if not arn or not arn.startswith("arn:"):
        return
    owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if owner != account_id:
        raise AwsError("ResourceNotFoundException", f"Billing view {arn} not found.")


def check_unchanged(old: dict[str, Any], new: dict[str, Any]) -> None:
    """ModifyReportDefinition may not change what a report was created with."""
    for field in CREATE_ONLY:
        before, after = old.get(field), new.get(field)
        if field == "AdditionalSchemaElements":
            before, after = sorted(before or []), sorted(after or [])
        if before != after:
            raise invalid(
                f"{field} of report {old['ReportName']} cannot be modified; "
                "delete the report and create it again."
            )
