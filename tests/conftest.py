"""Shared fixtures: a real HTTP S3 endpoint (moto's threaded server) and fresh buckets on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server on a free local port for the session and yield its URL.

    Requests go over real HTTP, so the code under test runs exactly as against AWS or MinIO (no
    boto3 patching). Fake credentials are set for the session only, and anything from the
    developer's own AWS setup that could redirect or authenticate requests is hidden.
    """
    from moto.server import ThreadedMotoServer  # imported lazily: local-only runs skip moto entirely

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(name, raising=False)
        # A missing file: a developer's ~/.aws config must not change region, endpoint or profile.
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/buyplan-tests/aws-config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/buyplan-tests/aws-credentials")

        # Port 0 lets the OS pick a free port atomically (no pick-then-bind race between workers).
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def s3_admin_client(s3_endpoint: str) -> Iterator[Any]:
    """A plain boto3 client on the test endpoint for setup and inspection, shared by the session.

    Shared because creating a client loads botocore's service model (~0.1 s), which per test adds up.
    """
    client = boto3.session.Session().client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_admin_client: Any) -> Iterator[str]:
    """Create a fresh, uniquely named, versioned bucket on the test endpoint and yield its name."""
    client = s3_admin_client
    name = f"buyplan-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    # Empty and drop the bucket so a long session does not pile up objects in moto's memory.
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            client.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    client.delete_bucket(Bucket=name)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary Prefect server and database per test module, with Prefect's state in a temp folder."""
    from prefect.settings import (
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    settings = {
        PREFECT_HOME: str(tmp_path_factory.mktemp("prefect-home")),
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 90,
    }
    with temporary_settings(updates=settings), prefect_test_harness(server_startup_timeout=90):
        yield
