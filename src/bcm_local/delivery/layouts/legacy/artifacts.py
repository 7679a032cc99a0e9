"""The small files around legacy CUR data: manifest, Redshift, QuickSight and Athena helpers."""

from __future__ import annotations

import json
from typing import Any

from bcm_local.billing.tables.types import DOUBLE, TIMESTAMP, TIMESTAMP_MS
from bcm_local.delivery.layouts.legacy.columns import LegacyColumn, snake
from bcm_local.delivery.layouts.legacy.paths import Paths


def _stamp(moment: Any) -> str:
    return f"{moment:%Y%m%dT%H%M%S}.000Z"


def manifest(
    paths: Paths,
    account_id: str,
    report_id: str,
    columns: list[LegacyColumn],
    report_keys: list[str],
    artifact_keys: list[dict[str, str]],
) -> bytes:
    """AWS's `<report>-Manifest.json`, keys in AWS's order."""
    definition = paths.definition
    body = {
        "assemblyId": paths.assembly_id,
        "account": account_id,
        "columns": [c.manifest_entry(paths.parquet) for c in columns],
        "charset": "UTF-8",
        "compression": definition["Compression"],
        "contentType": "Parquet" if paths.parquet else "text/csv",
        "reportId": report_id,
        "reportName": paths.report,
        "billingPeriod": {"start": _stamp(paths.start), "end": _stamp(paths.end)},
        "bucket": paths.bucket,
        "reportKeys": report_keys,
        "additionalArtifactKeys": artifact_keys,
    }
    return json.dumps(body, indent=2).encode()


# -- Redshift ---------------------------------------------------------------------------

_REDSHIFT_TYPES = {
    "DateTime": "TIMESTAMP",
    "BigDecimal": "DECIMAL(30,15)",
    "OptionalBigDecimal": "DECIMAL(30,15)",
    "Interval": "VARCHAR(100)",
}


def redshift_manifest(paths: Paths, report_keys: list[str]) -> bytes:
    entries = [{"url": paths.uri(k), "mandatory": True} for k in report_keys]
    return json.dumps({"entries": entries}, indent=2).encode()


def redshift_commands(paths: Paths, columns: list[LegacyColumn], manifest_key: str) -> bytes:
    """The SQL that creates the month's table, COPYs the report into it, and maps the
    user tags back: Redshift column names are case-insensitive and stricter than tag keys,
    so resource tag columns are named userTag0, userTag1, ... and a `<table>_tagMapping`
    table holds (remappedUserTag, userTag) pairs, as AWS's RedshiftCommands.sql does."""
    table = f"AWSBilling{paths.start:%Y%m}"
    names: list[str] = []
    mapping: list[tuple[str, str]] = []
    for c in columns:
        if c.category == "resourceTags":
            names.append(f"userTag{len(mapping)}")
            mapping.append((names[-1], c.name))
        else:
            names.append(f"{c.category}_{c.name.replace(':', '_')}")
    lines = [
        f"  {name} " + _REDSHIFT_TYPES.get(c.manifest_type, "VARCHAR(512)")
        for name, c in zip(names, columns, strict=True)
    ]
    compression = "GZIP\n" if paths.definition["Compression"] == "GZIP" else ""
    sql = (
        f"create table {table}(\n" + ",\n".join(lines) + "\n);\n\n"
        f"copy {table} from '{paths.uri(manifest_key)}'\n"
        "credentials 'aws_iam_role=<AWS_ROLE>'\n"
        f"region '{paths.definition['S3Region']}'\n"
        f"{compression}CSV\nIGNOREHEADER 1\nTIMEFORMAT 'auto'\nmanifest;\n\n"
        f"create table {table}_tagMapping(\n"
        "  remappedUserTag VARCHAR(256),\n  userTag VARCHAR(256)\n);\n"
    )
    for remapped, tag in mapping:
        quoted = tag.replace("'", "''")
        sql += (
            f"\ninsert into {table}_tagMapping(remappedUserTag, userTag) "
            f"values ('{remapped}', '{quoted}');"
        )
    return (sql + ("\n" if mapping else "")).encode()


# -- QuickSight -------------------------------------------------------------------------


def quicksight_manifest(paths: Paths, report_keys: list[str]) -> bytes:
    body = {
        "fileLocations": [{"URIs": [paths.uri(k) for k in report_keys]}],
        "globalUploadSettings": {
            "format": "CSV",
            "delimiter": ",",
            "textqualifier": '"',
            "containsHeader": "true",
        },
    }
    return json.dumps(body, indent=2).encode()


# -- Athena -----------------------------------------------------------------------------


def athena_database(paths: Paths) -> str:
    return f"athenacurcfn_{snake(paths.report)}"


def _athena_type(col: LegacyColumn) -> str:
    if col.aws_type in (TIMESTAMP, TIMESTAMP_MS):
        return "timestamp"
    return "double" if col.aws_type == DOUBLE else "string"


def create_table_sql(paths: Paths, columns: list[LegacyColumn]) -> bytes:
    lines = [f"    `{c.parquet_name}` {_athena_type(c)}" for c in columns]
    sql = (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {athena_database(paths)}.{snake(paths.report)}(\n"
        + ",\n".join(lines)
        + "\n)\nPARTITIONED BY (\n    `year` string,\n    `month` string\n)\n"
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n"
        "WITH  SERDEPROPERTIES (\n    'serialization.format' = '1'\n)\n"
        f"LOCATION '{paths.athena_location()}/'\n"
    )
    return sql.encode()


_CRAWLER_CFN = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: Glue database, crawler and status table for the Cost and Usage Report {report}
Resources:
  AWSCURDatabase:
    Type: AWS::Glue::Database
    Properties:
      DatabaseInput:
        Name: {database}
      CatalogId: !Ref AWS::AccountId
  AWSCURCrawlerComponentFunction:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service:
                - glue.amazonaws.com
            Action:
              - sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole
      Policies:
        - PolicyName: AWSCURCrawlerComponentFunction
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action:
                  - s3:GetObject
                  - s3:PutObject
                Resource: {resource}
  AWSCURCrawler:
    Type: AWS::Glue::Crawler
    DependsOn:
      - AWSCURDatabase
      - AWSCURCrawlerComponentFunction
    Properties:
      Name: {crawler}
      Description: A recurring crawler that keeps your CUR table in Athena up-to-date.
      Role: !GetAtt AWSCURCrawlerComponentFunction.Arn
      DatabaseName: !Ref AWSCURDatabase
      Targets:
        S3Targets:
          - Path: {path}
            Exclusions:
              - '**.json'
              - '**.yml'
              - '**.sql'
              - '**.csv'
              - '**.gz'
              - '**.zip'
      SchemaChangePolicy:
        UpdateBehavior: UPDATE_IN_DATABASE
        DeleteBehavior: DELETE_FROM_DATABASE
  AWSCURReportStatusTable:
    Type: AWS::Glue::Table
    DependsOn: AWSCURDatabase
    Properties:
      DatabaseName: {database}
      CatalogId: !Ref AWS::AccountId
      TableInput:
        Name: cost_and_usage_data_status
        TableType: EXTERNAL_TABLE
        StorageDescriptor:
          Columns:
            - Name: status
              Type: string
          InputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat
          OutputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat
          SerdeInfo:
            SerializationLibrary: org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe
          Location: {status}
"""


def crawler_template(paths: Paths) -> bytes:
    """The CloudFormation template AWS's `crawler-cfn.yml` is: the Glue database, the
    crawler over the Parquet data and the status table (without AWS's Lambda helpers).
    Values are JSON-quoted, which YAML reads as double-quoted scalars."""
    values = {
        "report": paths.report,
        "database": athena_database(paths),
        "resource": f"arn:aws:s3:::{paths.bucket}/{paths.base}/{paths.report}*",
        "crawler": f"AWSCURCrawler-{paths.report}",
        "path": paths.athena_location(),
        "status": f"s3://{paths.bucket}/{paths.base}/cost_and_usage_data_status/",
    }
    quoted = {k: json.dumps(v) for k, v in values.items()}
    return _CRAWLER_CFN.format(**quoted).encode()
