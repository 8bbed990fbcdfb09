"""`make chaos`: run N mixed tasks through podrunner under faults, then account for every one.

    python -m tests.chaos.run --tasks 2000          # the full run (make chaos)
    python -m tests.chaos.run --tasks 300 --seconds 30   # the short one the test suite runs

Prints progress every few seconds, then one line of figures; exits 1 on any loss, wrong state,
task run twice, leak or crash, 0 otherwise. Logs of every process are kept under --workdir.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.chaos import workload
from tests.chaos.stack import Stack
from tests.support.kubesim import start_kubesim
from tests.support.redis_process import redis_process
from tests.support.scratch import scratch_database

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Options:
    tasks: int
    seconds: float
    seed: int
    database_url: str
    workdir: Path
    drain_s: float


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    options.workdir.mkdir(parents=True, exist_ok=True)
    say(f"chaos: {options.tasks} tasks over {options.seconds:.0f}s, seed {options.seed}")
    say(f"chaos: process logs in {options.workdir}")
    with (
        scratch_database(options.database_url, say=say) as database_url,
        redis_process(options.workdir) as redis_server,
    ):
        log = options.workdir / "kubesim.log"
        kubesim = start_kubesim(options.workdir, "--namespace", workload.NAMESPACE, log=log)
        try:
            url = database_url.render_as_string(hide_password=False)
            account = Stack(options, redis_server, kubesim, url).run()
        finally:
            kubesim.stop()
    say(f"chaos: {account.line()}")
    for example in account.examples():
        say(f"chaos:   {example}")
    return 1 if account.failures else 0


def say(text: str) -> None:
    print(text, flush=True)


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000, help="how many tasks (default 2000)")
    parser.add_argument("--seconds", type=float, help="submission period (default tasks / 35)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="the fault schedule's")
    parser.add_argument("--database-url", default=os.environ.get("PODRUNNER_TEST_DATABASE_URL"))
    parser.add_argument("--workdir", type=Path, help="where process logs go (default: a temp dir)")
    parser.add_argument("--drain", type=float, default=240.0, help="seconds to finish after")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="podrunner-chaos-"))
    return Options(
        tasks=args.tasks,
        seconds=args.seconds if args.seconds is not None else max(20.0, args.tasks / 35),
        seed=args.seed,
        database_url=args.database_url or DEFAULT_DATABASE,
        workdir=workdir,
        drain_s=args.drain,
    )


if __name__ == "__main__":
    sys.exit(main())
