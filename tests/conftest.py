"""Shared test wiring: the one fake GitHub, a real Redis for the suite, deterministic property tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fakegithub import app_key, fake_github  # noqa: F401  (pytest fixtures)
from tests.redisserver import RedisServer, redis_server

# Property tests draw the same examples on every run and have no deadline: a busy machine makes
# them slower, never red, and a failure found once is found again (no example database to keep).
settings.register_profile(
    "unroot", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("unroot")


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
