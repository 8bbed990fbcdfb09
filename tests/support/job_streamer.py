"""A process that takes jobs as they come, reports each, then acknowledges it; forever.

Run by tests that kill it with SIGKILL (or freeze it with SIGSTOP first) while jobs stream
through, to prove no job is lost whatever moment it dies at. Each job's task id is printed on a
line of its own before the job is acknowledged, so a job reported may come again, but a job not
reported was never acknowledged. Usage: python -m tests.support.job_streamer BROKER_URL NAMESPACE
PREFETCH.
"""

from __future__ import annotations

import sys

from shared.messages import Job
from shared.messaging.jobqueue import BrokerSettings, JobQueue


def main(broker_url: str, namespace: str, prefetch: int) -> None:
    queue = JobQueue(BrokerSettings(url=broker_url, visibility_timeout_s=1.0))
    with queue.consumer([namespace], prefetch=prefetch) as consumer:
        while True:
            deliveries = consumer.poll(timeout_s=0.2, most=prefetch)
            for delivery in deliveries:
                print(Job.decode(delivery.body).task_id, flush=True)
            with consumer.settling():
                for delivery in deliveries:
                    delivery.ack()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
