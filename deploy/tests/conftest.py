"""Fixtures for the scale-out tests: a throwaway CA, and clusters of reference relays behind HAProxy
(deploy/haproxy/haproxy.cfg), each stopped, nodes and HAProxy alike, when its test or module ends."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster import BUILD, HAPROXY, Certificate, Cluster  # noqa: E402


def pytest_collection_modifyitems(items):
    """Needs haproxy and openssl (.ci/install test installs both) and the built binaries."""
    programs = [HAPROXY, "/usr/bin/openssl", *(str(BUILD / binary) for binary in ("reference-relay", "relay-conformance"))]
    missing = [program for program in programs if not os.access(program, os.X_OK)]
    if missing:
        skip = pytest.mark.skip(reason=f"missing {', '.join(missing)} (bash .ci/install test; bash .ci/setup)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    return Certificate.make(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def start_cluster(tmp_path, certificate):
    """Starts clusters (see Cluster for the options); each is stopped when the test ends."""
    started = []

    def start(**options) -> Cluster:
        started.append(Cluster(tmp_path, certificate, **options))
        return started[-1]

    yield start
    for cluster in started:
        cluster.stop()
