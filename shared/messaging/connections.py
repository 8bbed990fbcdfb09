"""Redis connections from URLs (`redis://`, `rediss://` and `unix://` sockets alike)."""

from __future__ import annotations

import redis

#: The client type, for wiring that hands a client along without importing redis itself.
Redis = redis.Redis


class MessagingError(RuntimeError):
    """Redis or the broker failed or could not be reached; the message says which and why."""


def connect_redis(url: str, *, timeout_s: float = 10.0) -> redis.Redis:
    """A Redis client speaking bytes, with socket timeouts so a dead server is noticed."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
    )


def ping(client: redis.Redis) -> None:
    """Raise `MessagingError` unless Redis answers."""
    try:
        client.ping()
    except redis.RedisError as error:
        raise MessagingError(f"Redis does not answer: {error}") from error
