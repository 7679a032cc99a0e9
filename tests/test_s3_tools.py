"""Data tools against the built-in S3: pyarrow's S3FileSystem (parquet) and s3fs/pandas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from s3_support import new_bucket

from bcm_local.testing import ServerProcess


@pytest.fixture(scope="module")
def bucket(client: Callable[..., Any]) -> str:
    return new_bucket(client("s3"), "tools")


def test_pyarrow_parquet_round_trip(server: ServerProcess, bucket: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import fs

    s3 = fs.S3FileSystem(
        endpoint_override=server.endpoint.removeprefix("http://"),
        scheme="http",
        access_key="test",
        secret_key="test",
        region="us-east-1",
    )
    table = pa.table(
        {
            "line_item_usage_account_id": ["111111111111", "222222222222"] * 50_000,
            "cost": [float(i) / 7 for i in range(100_000)],
        }
    )
    pq.write_table(table, f"{bucket}/exports/part-0.parquet", filesystem=s3)
    info = s3.get_file_info(f"{bucket}/exports/part-0.parquet")
    assert info.type == fs.FileType.File and info.size > 0
    listed = s3.get_file_info(fs.FileSelector(f"{bucket}/exports", recursive=True))
    assert [i.path for i in listed] == [f"{bucket}/exports/part-0.parquet"]
    assert s3.get_file_info(f"{bucket}/exports").type == fs.FileType.Directory
    back = pq.read_table(f"{bucket}/exports/part-0.parquet", filesystem=s3)
    assert back.equals(table)
    dataset = pq.ParquetDataset(f"{bucket}/exports", filesystem=s3)
    assert dataset.read().num_rows == 100_000
    with s3.open_output_stream(f"{bucket}/raw/big.bin") as out:  # multipart inside pyarrow
        for _ in range(12):
            out.write(b"z" * (1 << 20))
    with s3.open_input_file(f"{bucket}/raw/big.bin") as handle:
        handle.seek(11 << 20)
        assert handle.read(4) == b"zzzz"
    s3.delete_file(f"{bucket}/raw/big.bin")
    assert s3.get_file_info(f"{bucket}/raw/big.bin").type == fs.FileType.NotFound


def test_s3fs_and_pandas(server: ServerProcess, bucket: str) -> None:
    import pandas as pd
    import s3fs

    options = {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": server.endpoint, "region_name": "us-east-1"},
    }
    fs = s3fs.S3FileSystem(**options)
    frame = pd.DataFrame({"service": ["AmazonS3", "AmazonEC2"], "cost": [1.5, 2.25]})
    frame.to_csv(f"s3://{bucket}/pandas/costs.csv", index=False, storage_options=options)
    assert pd.read_csv(f"s3://{bucket}/pandas/costs.csv", storage_options=options).equals(frame)
    frame.to_parquet(f"s3://{bucket}/pandas/costs.parquet", storage_options=options)
    assert pd.read_parquet(f"s3://{bucket}/pandas/costs.parquet", storage_options=options).equals(
        frame
    )
    assert sorted(fs.ls(f"{bucket}/pandas")) == [
        f"{bucket}/pandas/costs.csv",
        f"{bucket}/pandas/costs.parquet",
    ]
    with fs.open(f"{bucket}/pandas/big.bin", "wb", block_size=5 << 20) as handle:
        handle.write(b"q" * (11 << 20))  # several multipart parts
    assert fs.info(f"{bucket}/pandas/big.bin")["size"] == 11 << 20
    assert fs.cat_file(f"{bucket}/pandas/big.bin", start=5, end=9) == b"qqqq"
    fs.rm(f"{bucket}/pandas", recursive=True)
    fs.invalidate_cache()
    assert fs.ls(bucket) == [f"{bucket}/exports"] or not fs.exists(f"{bucket}/pandas/costs.csv")
