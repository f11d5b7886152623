"""Shared fixtures: a real SeaweedFS S3 server and the local stack (every service a real
process in its own virtual environment, talking real gRPC over sockets)."""

from __future__ import annotations

import uuid

import pytest

from tests.support.fixtures import s3  # noqa: F401 - re-exported fixture


@pytest.fixture(scope="session")
def stack(s3):  # noqa: F811
    from nnrosetta.stack import LocalStack

    with LocalStack(env=s3.env(), keep_logs=False) as st:
        yield st


@pytest.fixture(scope="session")
def gateway(stack):
    from nnrosetta.client import GatewayClient

    with GatewayClient(stack.gateway_address) as gw:
        yield gw


@pytest.fixture(scope="session")
def bucket(s3):  # noqa: F811
    name = f"nnr-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture()
def shared_dir(tmp_path, monkeypatch):
    """A fresh shared folder for this test (the one the services hand files over by path)."""
    from nnrosetta import shared

    d = tmp_path / "shared"
    monkeypatch.setenv(shared.ENV, str(d))
    monkeypatch.setattr(shared, "_token", None)
    return d
