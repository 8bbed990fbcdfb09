"""A process that takes one job from a queue, reports it, and then hangs without acknowledging.

Run by tests that kill it with SIGKILL, to prove an unacknowledged job is delivered again.
Usage: python -m tests.support.job_taker BROKER_URL NAMESPACE
"""

from __future__ import annotations

import sys
import time

from shared.messaging.jobqueue import BrokerSettings, JobQueue


def main(broker_url: str, namespace: str) -> None:
    queue = JobQueue(BrokerSettings(url=broker_url, visibility_timeout_s=1.0))
    with queue.consumer([namespace], prefetch=1) as consumer:
        while not (deliveries := consumer.poll(timeout_s=0.2)):
            pass
        print(deliveries[0].body.decode(), flush=True)
        while True:
            time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
