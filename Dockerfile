# podrunner's images; the first argument picks the subcommand.
#
#   docker build --target prod -t registry.example.com/podrunner:1.2.3 .   # what clusters run
#   docker build --target dev -t podrunner:dev .                           # docker compose, demo
#   docker run --rm podrunner:dev --help
#   docker run --rm podrunner:dev reconciler        (settings come from PODRUNNER_* variables)
#
# prod (the last stage, so also what a plain `docker build .` makes) holds the launcher, the
# watcher, the reconciler, the command line, `shared` and the migrations, and nothing else.
# kubesim, a test double that answers any client as if it were a Kubernetes API server, and the
# demo are never copied into its build, so they cannot be imported from it; its build fails if
# they could. dev adds both, for docker compose and `podrunner demo`.
#
# Each builder makes a wheel of its sources and installs it, with the runtime dependencies only
# (no dev extras), into a virtual environment at /opt/podrunner. The final stages copy that
# environment alone: no sources, no pip, no compilers.
#
# PYTHON_IMAGE can pin the base image by digest: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:...

ARG PYTHON_IMAGE=python:3.11-slim


# What both builds compile: everything but kubesim and the demo.
FROM ${PYTHON_IMAGE} AS sources

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# README.md is the package's long description (pyproject.toml names it), so the build needs it.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY migrations ./migrations
COPY services/__init__.py services/py.typed services/cli.py ./services/
COPY services/launcher ./services/launcher
COPY services/watcher ./services/watcher
COPY services/reconciler ./services/reconciler
# The Airflow executor: inert here (no Airflow in the image), shipped so the package is whole.
COPY services/airflow ./services/airflow


FROM sources AS prod-builder

RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/podrunner \
    && /opt/podrunner/bin/pip install /wheels/*.whl \
    && /opt/podrunner/bin/pip uninstall --yes pip setuptools
# Run from / so that /src (the sources) is not on the path: this asks the installed environment.
RUN cd / && /opt/podrunner/bin/python -c "import importlib.util as u; \
found = [m for m in ('services.kubesim', 'services.demo') if u.find_spec(m)]; \
raise SystemExit(f'not for production: {found}' if found else 0)"


FROM sources AS dev-builder

COPY services/kubesim ./services/kubesim
COPY services/demo ./services/demo
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/podrunner \
    && /opt/podrunner/bin/pip install /wheels/*.whl \
    && /opt/podrunner/bin/pip uninstall --yes pip setuptools


# What both images share: the interpreter, the user, the entry point.
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/podrunner/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# A fixed numeric UID, so `runAsNonRoot` can verify it and volume ownership is predictable.
RUN groupadd --system --gid 10001 podrunner \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/podrunner \
        --shell /usr/sbin/nologin podrunner

WORKDIR /home/podrunner
ENTRYPOINT ["podrunner"]
CMD ["--help"]


FROM runtime AS dev

# /kube is where kubesim writes its kubeconfig in docker compose; a named volume mounted there
# starts with this directory's owner, so the unprivileged kubesim can write into it.
RUN mkdir /kube \
    && chown 10001:10001 /kube

COPY --from=dev-builder /opt/podrunner /opt/podrunner

USER 10001

# Health apps: launcher 8081, watcher 8082, reconciler 8083 (also its API); kubesim 6443.
EXPOSE 8081 8082 8083 6443


FROM runtime AS prod

COPY --from=prod-builder /opt/podrunner /opt/podrunner

USER 10001

# Health apps: launcher 8081, watcher 8082, reconciler 8083 (also its API).
EXPOSE 8081 8082 8083
