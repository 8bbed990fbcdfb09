"""A process that takes jobs from a queue, reports them, and then hangs without acknowledging.

Run by tests that kill it with SIGKILL, to prove unacknowledged jobs are delivered again.
Usage: python -m tests.support.job_taker BROKER_URL NAMESPACE [PREFETCH]: one poll with room for
PREFETCH jobs (1 by default), each job's body printed on a line of its own.
"""

from __future__ import annotations

import sys
import time

from shared.messaging.jobqueue import BrokerSettings, JobQueue


def main(broker_url: str, namespace: str, prefetch: int = 1) -> None:
    queue = JobQueue(BrokerSettings(url=broker_url, visibility_timeout_s=1.0))
    with queue.consumer([namespace], prefetch=prefetch) as consumer:
        while not (deliveries := consumer.poll(timeout_s=0.2, most=prefetch)):
            pass
        for delivery in deliveries:
            print(delivery.body.decode(), flush=True)
        while True:
            time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:4]))
