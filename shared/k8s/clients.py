"""Connecting to the Kubernetes API the standard way: in-cluster, else a kubeconfig file.

In a pod, the service account's token and CA are used (`KUBERNETES_SERVICE_HOST` is set there).
Elsewhere the kubeconfig named by the caller, else `KUBECONFIG`, else `~/.kube/config` — the same
order as kubectl. Each call builds its own `Configuration`, never the client's process-wide default,
so two clients in one process (a test and the service under test) cannot interfere.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException


class KubeConfigError(RuntimeError):
    """No usable Kubernetes connection could be configured."""


def load_configuration(kubeconfig: Path | None = None) -> client.Configuration:
    """The connection settings: in-cluster when running in a pod, else from a kubeconfig."""
    configuration = client.Configuration()
    try:
        if kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ:
            config.load_incluster_config(client_configuration=configuration)
        else:
            path = kubeconfig or _default_kubeconfig()
            config.load_kube_config(config_file=str(path), client_configuration=configuration)
    except (ConfigException, OSError) as error:
        raise KubeConfigError(f"cannot configure the Kubernetes client: {error}") from error
    return configuration


def _default_kubeconfig() -> Path:
    """The first file named in `KUBECONFIG` (a path list, as for kubectl), else ~/.kube/config."""
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(listed[0] if listed else "~/.kube/config").expanduser()


def make_api_client(kubeconfig: Path | None = None, *, pool_size: int = 16) -> client.ApiClient:
    """An API client with a connection pool of `pool_size`, for that many concurrent calls.

    urllib3's own retries are off: left on, it silently sleeps out a 429's Retry-After inside the
    call and repeats requests; retrying is podrunner's decision, made where errors are classified.
    """
    configuration = load_configuration(kubeconfig)
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = False
    return client.ApiClient(configuration)
