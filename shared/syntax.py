"""Kubernetes' name and label syntax (DNS-1123 labels and subdomains, label names and values).

It lives below `shared.k8s`, which depends on the messages that validate names with it: the
messages, the settings and kubesim use it without loading the Kubernetes client.
"""

from __future__ import annotations

import re

#: Longest DNS-1123 label and label value.
MAX_LABEL = 63
#: Longest DNS-1123 subdomain (pod names, label-name prefixes).
MAX_SUBDOMAIN = 253

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def is_dns_label(value: str) -> bool:
    return len(value) <= MAX_LABEL and _DNS_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= MAX_SUBDOMAIN and _DNS_SUBDOMAIN.fullmatch(value) is not None


def is_label_value(value: str) -> bool:
    """An empty string is a valid label value; so is up to 63 of `[-A-Za-z0-9_.]`, alnum-bounded."""
    return len(value) <= MAX_LABEL and _LABEL_VALUE.fullmatch(value) is not None


def is_qualified_name(name: str) -> bool:
    """A label or annotation name: an optional DNS-subdomain prefix and `/`, then a 63-char name."""
    prefix, slash, local = name.rpartition("/")
    if slash and not is_dns_subdomain(prefix):
        return False
    return len(local) <= MAX_LABEL and _LABEL_NAME.fullmatch(local) is not None
