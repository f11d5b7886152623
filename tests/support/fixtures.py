"""Pytest fixtures shared by the test suites; import them into a conftest.py:

    from tests.support.fixtures import s3  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.seaweedfs import S3Endpoint, SeaweedFS


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """A real S3 server (SeaweedFS) for the whole session: .endpoint_url, .access_key,
    .secret_key, .region, .env() for a service's environment, .client() for boto3."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    ep = server.start()
    try:
        yield ep
    finally:
        server.stop()
