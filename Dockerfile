# podrunner: one image for every service; the first argument picks the subcommand.
#
#   docker build -t podrunner:dev .
#   docker run --rm podrunner:dev --help
#   docker run --rm podrunner:dev reconciler        (settings come from PODRUNNER_* variables)
#
# The builder stage makes a wheel of this checkout and installs it, with its runtime dependencies
# only (no dev extras), into a virtual environment at /opt/podrunner. The final stage copies that
# environment alone: no sources, no pip, no compilers.

FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# README.md is the package's long description (pyproject.toml names it), so the build needs it.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations

RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/podrunner \
    && /opt/podrunner/bin/pip install /wheels/*.whl \
    && /opt/podrunner/bin/pip uninstall --yes pip setuptools


FROM python:3.11-slim AS runtime

ENV PATH=/opt/podrunner/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# A fixed numeric UID, so `runAsNonRoot` can verify it and volume ownership is predictable.
# /kube is where kubesim writes its kubeconfig in docker compose; a named volume mounted there
# starts with this directory's owner, so the unprivileged kubesim can write into it.
RUN groupadd --system --gid 10001 podrunner \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/podrunner \
        --shell /usr/sbin/nologin podrunner \
    && mkdir /kube \
    && chown 10001:10001 /kube

COPY --from=builder /opt/podrunner /opt/podrunner

USER 10001
WORKDIR /home/podrunner

# Health apps: launcher 8081, watcher 8082, reconciler 8083 (also its API); kubesim 6443.
EXPOSE 8081 8082 8083 6443

ENTRYPOINT ["podrunner"]
CMD ["--help"]
