"""Pin the images the Kubernetes manifests run to the digests of what was built and pushed.

A tag can be moved to other contents at any time; a digest names the contents themselves. So the
manifests name both images by digest: the services' image in the control plane's
kustomization.yaml (kustomize `images:`, which rewrites every podrunner container), and the
worker pods' default image in configmap-settings.yaml (`PODRUNNER_WORKER_IMAGE`). This tool
writes a new pin into those lines, in place, so the files' comments survive:

    python -m scripts.pin_images --podrunner registry.example.com/podrunner:1.2.3
    python -m scripts.pin_images --worker python:3.11-slim
    python -m scripts.pin_images --podrunner registry.example.com/podrunner@sha256:<64 hex>

(`make pin-images IMAGE=... WORKER_IMAGE=...` runs it.) A reference that carries a digest is
written as given. A tag is resolved to the digest its registry serves now, with
`docker buildx imagetools inspect`: push first, then pin. For a multi-platform image that is the
index's digest, so every node pulls its own platform of exactly that build.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where the pins live, relative to the checkout.
KUSTOMIZATION = Path("k8s/base/control-plane/kustomization.yaml")
SETTINGS = Path("k8s/base/control-plane/configmap-settings.yaml")
#: The image name the manifests' podrunner containers use (kustomize `images:` matches it).
SERVICES_IMAGE = "podrunner"

_PINNED = re.compile(r"(?P<name>[^\s@]+)@(?P<digest>sha256:[0-9a-f]{64})")
_SERVICES_ENTRY = re.compile(
    rf"(?m)^(?P<indent> *)- name: {SERVICES_IMAGE}\n(?P=indent)  newName: \S+\n"
    r"(?P=indent)  digest: \S+\n"
)
_WORKER_LINE = re.compile(r"(?m)^(?P<indent> *)PODRUNNER_WORKER_IMAGE: \S+\n")

#: Finds the digest a registry serves for a tagged reference.
Resolver = Callable[[str], str]


class PinError(Exception):
    """A reference that cannot be pinned, or a file whose pin line is not where it should be."""


@dataclass(frozen=True)
class Pin:
    """An image by digest: `name@sha256:...`, where the name may keep the tag it was pinned from
    (`python:3.11-slim@sha256:...`; the digest decides what runs, the tag says what it was)."""

    name: str
    digest: str

    def __str__(self) -> str:
        return f"{self.name}@{self.digest}"


def repository(reference: str) -> str:
    """`reference` without its tag or digest (`reg:5000/app:1.2` -> `reg:5000/app`)."""
    name = reference.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def registry_digest(reference: str) -> str:
    """The digest the registry serves for `reference` now (needs docker buildx and access)."""
    argv = [
        "docker",
        "buildx",
        "imagetools",
        "inspect",
        reference,
        "--format",
        "{{json .Manifest}}",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603 - fixed argv
    except (OSError, subprocess.CalledProcessError) as error:
        raise PinError(f"{reference}: cannot ask the registry for its digest ({error})") from error
    digest = json.loads(done.stdout).get("digest")
    if not isinstance(digest, str):
        raise PinError(f"{reference}: the registry answered without a digest")
    return digest


def resolve(reference: str, *, resolver: Resolver) -> Pin:
    """`reference` as a pin: taken as is when it has a digest, else resolved by `resolver`."""
    pinned = _PINNED.fullmatch(reference)
    if pinned:
        return Pin(pinned["name"], pinned["digest"])
    if "@" in reference or not reference or reference != reference.strip():
        raise PinError(f"{reference!r}: expected NAME:TAG or NAME@sha256:<64 hex digits>")
    digest = resolver(reference)
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise PinError(f"{reference}: {digest!r} is not a sha256 digest")
    return Pin(reference, digest)


def pin_services(text: str, pin: Pin) -> str:
    """The kustomization `text` with the podrunner `images:` entry set to `pin` (kustomize
    writes `newName@digest`, so a tag in the pin is dropped here)."""
    found = _SERVICES_ENTRY.search(text)
    if found is None:
        raise PinError(f"{KUSTOMIZATION}: no `images:` entry for {SERVICES_IMAGE}")
    indent = found["indent"]
    entry = (
        f"{indent}- name: {SERVICES_IMAGE}\n{indent}  newName: {repository(pin.name)}\n"
        f"{indent}  digest: {pin.digest}\n"
    )
    return text[: found.start()] + entry + text[found.end() :]


def pin_worker(text: str, pin: Pin) -> str:
    """The settings ConfigMap `text` with PODRUNNER_WORKER_IMAGE set to `pin`."""
    found = _WORKER_LINE.search(text)
    if found is None:
        raise PinError(f"{SETTINGS}: no PODRUNNER_WORKER_IMAGE line")
    line = f"{found['indent']}PODRUNNER_WORKER_IMAGE: {pin}\n"
    return text[: found.start()] + line + text[found.end() :]


def pin_images(
    *, root: Path, podrunner: str | None, worker: str | None, resolver: Resolver
) -> list[str]:
    """Write the pins into the checkout at `root`; returns one line per pin written."""
    edits: list[tuple[Path, Callable[[str, Pin], str], Pin]] = []
    if podrunner is not None:
        edits.append((root / KUSTOMIZATION, pin_services, resolve(podrunner, resolver=resolver)))
    if worker is not None:
        edits.append((root / SETTINGS, pin_worker, resolve(worker, resolver=resolver)))
    for path, edit, pin in edits:
        path.write_text(edit(path.read_text(), pin))
    return [f"{path.relative_to(root)}: {pin}" for path, _edit, pin in edits]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pin_images", description=__doc__.split("\n\n")[0])
    parser.add_argument("--podrunner", metavar="REF", help="the services' image, as pushed")
    parser.add_argument("--worker", metavar="REF", help="the worker pods' default image")
    args = parser.parse_args(argv)
    if args.podrunner is None and args.worker is None:
        parser.error("name at least one image: --podrunner REF and/or --worker REF")
    try:
        written = pin_images(
            root=ROOT, podrunner=args.podrunner, worker=args.worker, resolver=registry_digest
        )
    except PinError as error:
        print(f"pin_images: {error}", file=sys.stderr)
        return 2
    print("\n".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
