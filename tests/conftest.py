"""Shared test wiring: the one fake GitHub, a real Redis for the suite, and tests/ on the import path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The test modules import their helpers by bare name (`from test_e2e import bot`). The fake and
# gitrepo are imported as tests.fakegithub and tests.gitrepo only: one name, one copy of their classes.
sys.path.insert(0, str(Path(__file__).parent))

# Property tests draw the same examples on every run and have no deadline: a busy machine makes
# them slower, never red, and a failure found once is found again (no example database to keep).
settings.register_profile(
    "unroot", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("unroot")

from redisserver import RedisServer, redis_server  # noqa: E402

from tests.fakegithub import app_key, fake_github  # noqa: E402,F401  (pytest fixtures)


@pytest.fixture(scope="session")
def redis_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session, on a free loopback port."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_instance: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_instance.url) as client:
        client.flushall()
    return redis_instance.url
