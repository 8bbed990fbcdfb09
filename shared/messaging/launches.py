"""Publishing launch events from outside the launcher: what a revocation sends the reconcilers.

The launches stream is where the reconcilers learn what became of a job; a client revoking a job
(`shared.revoking`) appends its word there too, so the reconciler applies it with the same rules,
in the same order as the launcher's, and follows up (the pod deleted, its slot freed) as for
any ended task.
"""

from __future__ import annotations

from shared.messages import LaunchEvent
from shared.messaging import streams
from shared.messaging.connections import connect_redis
from shared.messaging.keys import RedisKeys


class LaunchPublisher:
    """Appends launch events to one podrunner instance's launches stream."""

    def __init__(self, redis_url: str, *, instance: str, maxlen: int) -> None:
        self._client = connect_redis(redis_url)
        self._stream = RedisKeys(instance).launches
        self._maxlen = maxlen

    def publish(self, events: list[LaunchEvent]) -> None:
        """Append `events`, in one call.

        Raises:
            MessagingError: Redis failed or could not be reached.
        """
        payloads = [event.encode() for event in events]
        streams.publish(self._client, self._stream, payloads, maxlen=self._maxlen)

    def close(self) -> None:
        self._client.close()
