"""Reading pod template files: the operator's own, and the ones a job may name.

The launcher reads whatever file a job names, so the name is confined: it must be a plain
relative name (`admission.check_template_name`) of a regular file inside the operator's template
directory once every symlink is resolved. Links that stay inside are followed, since a mounted
ConfigMap is made of them. A name that does not exist and one that leads outside get the same
answer, so a job cannot probe the launcher's disk; no answer ever quotes the file. Every read is
bounded (`PODRUNNER_POD_TEMPLATE_MAX_BYTES`) and opened without blocking, so `/dev/zero` or a
FIFO cannot hold a launcher.

Files are parsed once and cached until their inode, size or mtime change.
"""

from __future__ import annotations

import copy
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared import admission, pod_shapes

#: Default of `PODRUNNER_POD_TEMPLATE_MAX_BYTES`.
DEFAULT_MAX_BYTES = 256 * 1024
#: How a file is opened: read-only, not through a final symlink, never waiting for a writer.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: Errors of opening a file inside the directory that mean "there is no such template".
_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})


class TemplateError(ValueError):
    """A pod template file is missing, unreadable, too large, or not a pod (one line)."""


@dataclass
class Templates:
    """Pod templates read from disk: `directory` holds those jobs may name (None: they may not),
    and no file is read past `max_bytes`."""

    directory: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    _cache: dict[Path, tuple[tuple[int, int, int, int], dict[str, Any]]] = field(
        default_factory=dict
    )

    def load(self, path: Path) -> dict[str, Any]:
        """The pod in the operator's template file `path`, as a fresh copy.

        Raises:
            TemplateError: naming the file and what is wrong with it.
        """
        shown = f"pod template file {path}"
        try:
            return self._parsed(path, path.resolve(strict=True), shown)
        except OSError as error:
            raise TemplateError(f"{shown}: {error.strerror}") from error
        except RuntimeError as error:
            raise TemplateError(f"{shown}: a loop of symbolic links") from error

    def load_named(self, name: str) -> dict[str, Any]:
        """The pod in the template a job names, as a fresh copy.

        Raises:
            TemplateError: naming the template as the job did, never what is on disk outside.
        """
        directory = self.directory
        try:
            admission.check_template_name(name, template_dir=directory)
        except admission.Refused as refused:
            raise TemplateError(f"{refused.field} {name!r}: {refused.reason}") from refused
        shown = f"pod_template_file {name!r}"
        if directory is None:  # refused above already; this says so to the type checker
            raise _no_such(shown)
        try:
            return self._parsed(directory / name, _inside(directory, name, shown), shown)
        except OSError as error:
            if error.errno in _MISSING:
                raise _no_such(shown) from error
            raise TemplateError(f"{shown}: cannot be read ({error.strerror})") from error

    def _parsed(self, key: Path, path: Path, shown: str) -> dict[str, Any]:
        """The pod in `path` (links resolved), cached under `key` (the path as configured)."""
        descriptor = os.open(path, _OPEN_FLAGS)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise TemplateError(f"{shown}: not a regular file")
            if info.st_size > self.max_bytes:
                raise TemplateError(f"{shown}: larger than {self.max_bytes} bytes")
            version = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
            cached = self._cache.get(key)
            if cached is None or cached[0] != version:
                cached = (version, parse(_read_bounded(descriptor, self.max_bytes, shown), shown))
                self._cache[key] = cached
        finally:
            os.close(descriptor)
        return copy.deepcopy(cached[1])


def _inside(directory: Path, name: str, shown: str) -> Path:
    """`name` in `directory` with every link resolved; outside it, missing to the caller."""
    try:
        root = directory.resolve(strict=True)
        path = (root / name).resolve(strict=True)
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of links
        raise _no_such(shown) from error
    if not path.is_relative_to(root) or path == root:
        raise _no_such(shown)
    return path


def _no_such(shown: str) -> TemplateError:
    return TemplateError(f"{shown}: no such template in the template directory")


def _read_bounded(descriptor: int, max_bytes: int, shown: str) -> bytes:
    """At most `max_bytes` of the file (a file growing past its `stat` size is caught here)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(descriptor, min(64 * 1024, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise TemplateError(f"{shown}: larger than {max_bytes} bytes")
    return b"".join(chunks)


def parse(data: bytes, shown: str) -> dict[str, Any]:
    """The pod in a template file's bytes; any problem is a `TemplateError` with a one-line reason
    that does not quote the file (it may be anything, a binary included)."""
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise TemplateError(f"{shown}: not UTF-8 text") from error
    except yaml.MarkedYAMLError as error:
        raise TemplateError(f"{shown}: not valid YAML{_at(error)}") from error
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        raise TemplateError(f"{shown}: not valid YAML") from error
    if not isinstance(loaded, dict) or loaded.get("kind", "Pod") != "Pod":
        raise TemplateError(f"{shown}: not a Pod manifest")
    if not isinstance(loaded.get("spec"), dict):
        raise TemplateError(f"{shown}: has no spec")
    try:
        pod_shapes.check_pod(loaded)
    except pod_shapes.ShapeError as error:
        raise TemplateError(f"{shown}: {error}") from error
    return loaded


def _at(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    return "" if mark is None else f" (line {mark.line + 1}, column {mark.column + 1})"
