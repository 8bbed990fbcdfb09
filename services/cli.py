"""The `podrunner` command: one entry point for every service and tool.

The parser knows every subcommand of the contract, so `podrunner --help` shows the whole surface;
each handler imports what it needs, so one subcommand never pays for another's imports. Exit codes:
0 the work succeeded, 1 the work failed, 2 bad usage or bad input — always with a one-line reason
on stderr, never a traceback. Settings are read and validated here, once, and passed down.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.db.engines import DatabaseUnavailable
from shared.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace, Settings], int]


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        settings = Settings()
    except ValidationError as error:
        return _fail(f"invalid settings: {_first_error(error)}", EXIT_USAGE)
    try:
        return handler(args, settings)
    except UsageError as error:
        return _fail(str(error), EXIT_USAGE)
    except DatabaseUnavailable as error:
        return _fail(str(error), EXIT_FAILED)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podrunner", description="Run task instances as Kubernetes pods."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_services(commands)
    _add_db(commands)
    _add_job_commands(commands)
    return parser


def _add_services(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    launcher = commands.add_parser("launcher", help="consume jobs and create pods")
    launcher.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="consume this namespace's queue (repeatable; default: every PODRUNNER_NAMESPACES)",
    )
    launcher.set_defaults(handler=_launcher)

    watcher = commands.add_parser("watcher", help="watch pods and publish phase events")
    scope = watcher.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="watch this namespace (repeatable; default: every PODRUNNER_NAMESPACES)",
    )
    scope.add_argument(
        "--all-namespaces", action="store_true", help="watch the pods of every namespace at once"
    )
    watcher.set_defaults(handler=_watcher)

    reconciler = commands.add_parser("reconciler", help="apply events to Postgres, serve the API")
    reconciler.set_defaults(handler=_reconciler)

    kubesim = commands.add_parser("kubesim", help="run the Kubernetes API simulator")
    kubesim.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    kubesim.add_argument("--port", type=int, default=6443, help="port to listen on (6443)")
    kubesim.add_argument(
        "--kubeconfig-out", metavar="PATH", help="write a kubeconfig for reaching kubesim here"
    )
    kubesim.add_argument(
        "--advertise-address",
        metavar="HOST",
        help="host clients reach kubesim at, written to the kubeconfig (default: --host)",
    )
    kubesim.add_argument(
        "--mode",
        choices=["simulate", "process"],
        default="simulate",
        help="simulate containers, or run their commands as local processes (simulate)",
    )
    kubesim.add_argument("--token", help="require this bearer token (401 without it)")
    kubesim.add_argument(
        "--namespace", action="append", default=[], metavar="NS", help="namespaces to create"
    )
    kubesim.add_argument(
        "--bookmark-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="send a BOOKMARK on watches that asked for them this often (60)",
    )
    kubesim.add_argument(
        "--history-limit",
        type=int,
        default=100_000,
        metavar="EVENTS",
        help="watch events kept; a watch from an older resourceVersion gets 410 Gone (100000)",
    )
    kubesim.add_argument(
        "--restart-backoff",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="first CrashLoopBackOff delay, doubling up to --restart-backoff-max (kubelet: 10)",
    )
    kubesim.add_argument(
        "--restart-backoff-max", type=float, default=300.0, metavar="SECONDS", help="kubelet: 300"
    )
    kubesim.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="repeat the outcomes drawn for pods with an exit-rate annotation (simulate mode)",
    )
    kubesim.set_defaults(handler=_kubesim)


def _add_db(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database migrations")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="migrate the database to the latest schema")
    upgrade.add_argument(
        "revision", nargs="?", default="head", help="the revision to reach (default: head)"
    )
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = actions.add_parser("downgrade", help="migrate the database back to REVISION")
    downgrade.add_argument("revision", help="the revision to go back to")
    downgrade.set_defaults(handler=_db_downgrade)


def _add_job_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    submit = commands.add_parser("submit", help="submit a job")
    _add_job_options(submit, wait=True)
    submit.set_defaults(handler=_submit)
    render = commands.add_parser("render-pod", help="print the pod a job would create")
    _add_job_options(render, wait=False)
    render.set_defaults(handler=_render_pod)

    status = commands.add_parser("status", help="show task states")
    status.add_argument("--dag-id", metavar="D", help="only the tasks of this DAG")
    status.add_argument(
        "--state", metavar="S", help="only tasks in this state (queued, running, success, ...)"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(handler=_status)

    cleanup = commands.add_parser("cleanup-pods", help="delete finished or orphaned pods")
    cleanup.add_argument("--namespace", metavar="NS", help="default: PODRUNNER_NAMESPACE")
    cleanup.add_argument(
        "--min-age-minutes",
        type=int,
        default=30,
        metavar="N",
        help="leave pods that finished less than N minutes ago (30)",
    )
    cleanup.add_argument(
        "--dry-run", action="store_true", help="say what would be removed; remove nothing"
    )
    cleanup.set_defaults(handler=_cleanup_pods)

    demo = commands.add_parser("demo", help="run everything locally and submit demo tasks")
    demo.add_argument("--tasks", type=int, default=12, metavar="N", help="how many (default 12)")
    demo.add_argument("--report", metavar="PATH", help="write each task's final state as JSON")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep everything running after the tasks end, until Ctrl-C (to look at the dashboard)",
    )
    demo.set_defaults(handler=_demo)

    bench = commands.add_parser("bench", help="run every benchmark; one table and a JSON file")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: checks that all runs")
    bench.add_argument(
        "--json",
        default="bench-results.json",
        metavar="PATH",
        help="write the results here (bench-results.json)",
    )
    bench.add_argument("--database-url", help="Postgres on this machine (default 127.0.0.1)")
    bench.add_argument("--redis-url", help="Redis on this machine (default 127.0.0.1)")
    bench.set_defaults(handler=_bench)


def _add_job_options(command: argparse.ArgumentParser, *, wait: bool) -> None:
    command.add_argument("--dag-id", required=True, metavar="D", help="the task key: DAG")
    command.add_argument("--task-id", required=True, metavar="T", help="the task key: task")
    command.add_argument("--run-id", required=True, metavar="R", help="the task key: DAG run")
    command.add_argument(
        "--map-index",
        type=int,
        default=-1,
        metavar="N",
        help="the task key: mapped instance (-1: unmapped)",
    )
    command.add_argument(
        "--try-number", type=int, default=1, metavar="N", help="which attempt this is (1)"
    )
    command.add_argument(
        "--namespace", metavar="NS", help="where the pod runs (default: PODRUNNER_NAMESPACE)"
    )
    command.add_argument(
        "--image", metavar="IMG", help="the base container's image (default: the worker image)"
    )
    command.add_argument(
        "--pod-override", metavar="FILE", help="YAML or JSON pod merged over the rendered pod"
    )
    command.add_argument(
        "--pod-template-file",
        metavar="NAME",
        help="a template of PODRUNNER_POD_TEMPLATE_DIR, named relative to it",
    )
    command.add_argument(
        "--priority",
        type=int,
        default=0,
        metavar="N",
        help="0-9, higher is more urgent: launched sooner in its namespace (0)",
    )
    if wait:
        command.add_argument(
            "--wait",
            action="store_true",
            help="follow the task to its end: exit 0 on success, 1 on failure",
        )
    command.add_argument(
        "cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARG...", help="the task's command"
    )


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run everything locally, submit demo tasks, check each ended as it should."""
    try:
        from services.demo import embedded, session
    except ModuleNotFoundError as error:
        raise _left_out("the demo", error) from error

    if args.tasks < 1:
        raise UsageError("--tasks must be 1 or more")
    token = settings.api_token.get_secret_value() if settings.api_token else None
    options = session.Options(
        tasks=args.tasks,
        report=Path(args.report) if args.report else None,
        redis_url=settings.redis_url,
        database_url=settings.database_url,
        api_token=token,
        keep=args.keep,
    )
    try:
        return session.run(options)
    except embedded.Unavailable as error:
        raise UsageError(str(error)) from error


def _bench(args: argparse.Namespace, _settings: Settings) -> int:
    """Run the benchmark suite from the source checkout this package was imported from."""
    import subprocess

    import services

    root = Path(services.__file__).resolve().parent.parent
    if not (root / "tests" / "benchmarks" / "suite.py").is_file():
        raise UsageError("podrunner bench needs a source checkout (tests/benchmarks is not here)")
    argv = [
        sys.executable,
        "-m",
        "tests.benchmarks.suite",
        "--json",
        str(Path(args.json).resolve()),
    ]
    argv += ["--quick"] if args.quick else []
    for option, value in (("--database-url", args.database_url), ("--redis-url", args.redis_url)):
        argv += [option, value] if value else []
    return subprocess.run(argv, cwd=root, check=False).returncode  # noqa: S603 - our own module


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    """Record and publish a job; with --wait, follow it to its end."""
    import orjson

    from services.reconciler.api import waiting
    from shared import admission, intake
    from shared.db import engines
    from shared.messages import DecodeError, Job
    from shared.messaging.connections import MessagingError
    from shared.messaging.jobqueue import BrokerSettings, JobQueue

    if settings.database_url is None or settings.broker_url is None:
        raise UsageError("PODRUNNER_DATABASE_URL and PODRUNNER_REDIS_URL must be set")
    try:
        job = Job.decode(orjson.dumps(_job_from_args(args)))
    except DecodeError as error:
        raise UsageError(str(error)) from error
    engine = engines.make_engine(settings.database_url, pool_size=1)
    queue = JobQueue(BrokerSettings(settings.broker_url, settings.broker_visibility_timeout_s))
    try:
        submitted = intake.submit(
            engine,
            queue,
            job,
            default_namespace=settings.namespace,
            served=settings.namespaces,
            template_dir=settings.pod_template_dir,
        )
    except admission.Refused as error:
        raise UsageError(str(error)) from error
    except intake.AlreadySubmitted as error:
        return _fail(str(error), EXIT_FAILED)
    except MessagingError as error:
        # the row is recorded (the outbox): the stuck-queued sweep publishes the job later
        print(f"recorded {job.key} try {job.try_number}, published later: {error}", file=sys.stderr)
    else:
        print(f"submitted {job.key} try {job.try_number} to {submitted.namespace}")
    finally:
        queue.close()
        engine.dispose()
    if not args.wait:
        return EXIT_OK
    return waiting.wait_for(settings.database_url, job)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from services.reconciler.api import reporting

    rows = reporting.task_rows(_database_url(settings), dag_id=args.dag_id, state=args.state)
    print(reporting.as_json(rows) if args.json else reporting.as_table(rows))
    return EXIT_OK


def _cleanup_pods(args: argparse.Namespace, settings: Settings) -> int:
    """Remove finished pods older than --min-age-minutes whose results are safe."""
    from datetime import timedelta

    from services.reconciler import cleaning
    from shared.db import engines
    from shared.k8s import clients, naming
    from shared.k8s.errors import KubeError
    from shared.k8s.pods import PodApi

    if args.min_age_minutes < 0:
        raise UsageError("--min-age-minutes must be 0 or more")
    namespace = args.namespace or settings.namespace
    engine = (
        engines.make_engine(settings.database_url, pool_size=1) if settings.database_url else None
    )
    api_client = clients.make_api_client()
    try:
        verdicts = cleaning.cleanup(
            PodApi(api_client),
            engine,
            namespace=namespace,
            selector=naming.instance_selector(settings.instance),
            min_age=timedelta(minutes=args.min_age_minutes),
            dry_run=args.dry_run,
        )
    except KubeError as error:
        return _fail(f"listing or deleting pods in {namespace} failed: {error}", EXIT_FAILED)
    finally:
        api_client.close()
        if engine is not None:
            engine.dispose()
    removing = "would remove" if args.dry_run else "removed"
    for verdict in verdicts:
        action = removing if verdict.remove else "kept"
        print(f"{action} {verdict.candidate.name} ({verdict.why})")
    removed = sum(v.remove for v in verdicts)
    print(f"{removing} {removed} of {len(verdicts)} finished pods in {namespace}")
    return EXIT_OK


def _render_pod(args: argparse.Namespace, settings: Settings) -> int:
    """Print the pod the launcher would create for this job and the pod-security verdict (a YAML
    comment); a job the launcher would refuse exits 2 with its reason. Touches nothing."""
    import orjson
    import yaml

    from services.launcher import preparing, service

    body = orjson.dumps(_job_from_args(args))
    namespace = args.namespace or settings.namespace
    prepared = preparing.prepare(
        body,
        queue_namespace=namespace,
        settings=service.launch_settings(settings),
        templates=service.templates_of(settings),
    )
    if isinstance(prepared, preparing.Rejection):
        raise UsageError(prepared.reason)
    print(yaml.safe_dump(prepared.pod, sort_keys=False), end="")
    print(f'# pod security "{settings.pod_security}": allowed')
    return EXIT_OK


def _job_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The job JSON that the job options describe."""
    command = list(args.cmd)
    if command[:1] == ["--"]:
        command = command[1:]
    job: dict[str, Any] = {
        "version": 1,
        "dag_id": args.dag_id,
        "task_id": args.task_id,
        "run_id": args.run_id,
        "map_index": args.map_index,
        "try_number": args.try_number,
        "command": command,
        "priority": args.priority,
    }
    for field in ("namespace", "image", "pod_template_file"):
        if getattr(args, field):
            job[field] = getattr(args, field)
    if args.pod_override:
        job["pod_override"] = _read_override(Path(args.pod_override))
    return job


def _read_override(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except OSError as error:
        raise UsageError(f"--pod-override {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise UsageError(f"--pod-override {path}: not valid YAML or JSON") from error


def _launcher(args: argparse.Namespace, settings: Settings) -> int:
    from services.launcher import service
    from shared.wiring import ConfigurationError

    _configure_logging("launcher", settings)
    try:
        launcher = service.build(settings, args.namespace)
    except ConfigurationError as error:
        raise UsageError(str(error)) from error
    return launcher.run()


def _reconciler(_args: argparse.Namespace, settings: Settings) -> int:
    from services.reconciler import service
    from shared.wiring import ConfigurationError

    _configure_logging("reconciler", settings)
    try:
        reconciler = service.build(settings)
    except ConfigurationError as error:
        raise UsageError(str(error)) from error
    return reconciler.run()


def _watcher(args: argparse.Namespace, settings: Settings) -> int:
    from services.watcher import service
    from shared.wiring import ConfigurationError

    _configure_logging("watcher", settings)
    try:
        watcher = service.build(settings, args.namespace, all_namespaces=args.all_namespaces)
    except ConfigurationError as error:
        raise UsageError(str(error)) from error
    return watcher.run()


def _configure_logging(name: str, settings: Settings) -> None:
    from shared.logs import configure_logging

    configure_logging(service=name, log_format=settings.log_format, level=settings.log_level)


def _kubesim(args: argparse.Namespace, _settings: Settings) -> int:
    try:
        from services.kubesim import server
    except ModuleNotFoundError as error:
        raise _left_out("kubesim", error) from error

    settings = server.SimulatorSettings(
        host=args.host,
        port=args.port,
        advertise_address=args.advertise_address,
        mode=args.mode,
        token=args.token,
        namespaces=tuple(args.namespace),
        history_limit=args.history_limit,
        bookmark_interval_s=args.bookmark_interval,
        restart_backoff_s=args.restart_backoff,
        restart_backoff_max_s=args.restart_backoff_max,
        seed=args.seed,
    )
    kubeconfig = Path(args.kubeconfig_out) if args.kubeconfig_out else None
    server.serve(settings, kubeconfig)
    return EXIT_OK


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import migrating

    migrating.upgrade(_database_url(settings), args.revision)
    print(f"database at revision {migrating.current_revision(_database_url(settings))}")
    return EXIT_OK


def _db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import migrating

    migrating.downgrade(_database_url(settings), args.revision)
    print(f"database at revision {migrating.current_revision(_database_url(settings))}")
    return EXIT_OK


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise UsageError("PODRUNNER_DATABASE_URL is not set")
    return settings.database_url


def _left_out(what: str, error: ModuleNotFoundError) -> UsageError:
    """The production image ships the services only (see the Dockerfile's `prod` stage)."""
    if not (error.name or "").startswith("services."):
        raise error
    return UsageError(f"{what} is not in this image: it ships with the dev image only")


def _first_error(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    return f"PODRUNNER_{field.upper()}: {first['msg']}"


def _fail(message: str, code: int) -> int:
    print(f"podrunner: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
