"""The baseline's own virtual environment: Airflow with the cncf-kubernetes provider.

The provider's KubernetesExecutor needs a Kubernetes client older than the one podrunner needs, so
the two cannot share `.venv`. The Airflow benchmark creates `.venv-airflow-baseline` (beside
`.venv`, ignored by git) with pip the first time, and reuses it while it holds the same
requirements; pip's output is the progress shown meanwhile.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DIRECTORY = ROOT / ".venv-airflow-baseline"
#: Airflow as podrunner targets it, the provider release the benchmark compares with, and the
#: Postgres driver the project uses (so both executors reach the metadata database alike).
REQUIREMENTS = (
    "apache-airflow==3.3.2",
    "apache-airflow-providers-cncf-kubernetes==10.25.0",
    "psycopg[binary]>=3.2",
)
#: Written last, holding the requirements: a directory without it is an unfinished install.
STAMP = DIRECTORY / ".podrunner-requirements"
INSTALL_TIMEOUT_S = 1800.0


class Unavailable(RuntimeError):
    """The environment could not be created (no network, no pip, no space): the reason."""


def python(say: Callable[[str], None], *, directory: Path = DIRECTORY) -> Path:
    """The baseline environment's interpreter, creating or renewing the environment as needed.

    Raises:
        Unavailable: it could not be created; the message says why, in one line.
    """
    stamp = directory / STAMP.name
    interpreter = directory / "bin" / "python"
    wanted = "\n".join(REQUIREMENTS)
    if interpreter.exists() and stamp.exists() and stamp.read_text() == wanted:
        return interpreter
    say(f"creating {directory.name} (first use): pip install {' '.join(REQUIREMENTS)}")
    started = time.perf_counter()
    shutil.rmtree(directory, ignore_errors=True)
    try:
        venv.create(directory, with_pip=True, clear=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise Unavailable(f"cannot create {directory.name}: {error}") from error
    _pip_install(interpreter, say)
    stamp.write_text(wanted)
    say(f"{directory.name} ready in {time.perf_counter() - started:.0f}s")
    return interpreter


def _pip_install(interpreter: Path, say: Callable[[str], None]) -> None:
    """pip install the requirements, each line of pip's output passed on as progress."""
    argv = [str(interpreter), "-m", "pip", "install", "--progress-bar", "off", *REQUIREMENTS]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    last = ""
    deadline = time.monotonic() + INSTALL_TIMEOUT_S
    for line in process.stdout:
        if line.strip() and "is ignored: it is neither a file nor a directory" not in line:
            last = line.strip()
            say(f"pip: {last}")
        if time.monotonic() > deadline:
            process.kill()
            break
    if process.wait() != 0:
        raise Unavailable(f"pip install failed (exit {process.returncode}): {last}")


if __name__ == "__main__":
    print(python(lambda line: print(line, file=sys.stderr, flush=True)))
