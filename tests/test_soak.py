"""A 20-second version of `make soak` (benchmarks/soak.py): mixed API and S3 traffic from
several clients with no error and no file-descriptor leak. Memory is reported by the long
run only; no timing is asserted."""

from __future__ import annotations

from pathlib import Path

from benchmarks import soak


def test_short_soak_has_no_error_and_no_fd_leak(tmp_path: Path) -> None:
    report = soak.soak(minutes=1 / 3, clients=4, sample_seconds=5, data_dir=tmp_path)
    print(report.summary())
    assert report.requests > 0
    assert (report.errors, report.failed_slices) == (0, 0)
    assert report.fd_leak <= soak.FD_SLACK, [s.fds for s in report.samples]
