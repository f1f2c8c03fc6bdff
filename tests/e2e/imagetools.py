"""A stand-in for `docker buildx imagetools`, which Debian's docker.io (20.10, no buildx plugin)
does not have, as far as the release workflow uses it, against a registry on loopback (plain
HTTP). It follows docker/buildx's commands/imagetools: `create --tag T… SOURCE` puts the
source's manifest, byte for byte, under each tag (no rebuild: the same digest), and
`inspect REF [--format '{{ json .Manifest }}']` prints the manifest's descriptor, failing when
there is none.

    python -m tests.e2e.imagetools inspect|create ARGS…   (the `docker` shim in tests calls it)
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def split(ref: str) -> tuple[str, str, str]:
    """host:port/name:tag or host:port/name@sha256:… as (host, name, tag or digest)."""
    host, _, rest = ref.partition("/")
    if "@" in rest:
        name, _, reference = rest.partition("@")
    else:
        name, _, reference = rest.rpartition(":")
    return host, name, reference


def manifest(ref: str) -> tuple[bytes, str] | None:
    host, name, reference = split(ref)
    if not host.startswith("127.0.0.1:"):
        print(f"ERROR: {ref}: the stand-in reaches only a registry on 127.0.0.1", file=sys.stderr)
        return None
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{reference}", headers={"Accept": ACCEPT}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read(), answer.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def inspect(args: list[str]) -> int:
    ref = args[0]
    found = manifest(ref)
    if found is None:
        print(f"ERROR: {ref}: not found", file=sys.stderr)
        return 1
    data, media_type = found
    descriptor = {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    if "--format" in args:
        assert args[args.index("--format") + 1].replace(" ", "") == "{{json.Manifest}}", args
        print(json.dumps(descriptor))
    else:
        print(f"Name:      {ref}\nMediaType: {media_type}\nDigest:    {descriptor['digest']}")
    return 0


def create(args: list[str]) -> int:
    tags = [args[i + 1] for i, arg in enumerate(args) if arg == "--tag"]
    source = args[-1]
    found = manifest(source)
    if found is None:
        print(f"ERROR: {source}: not found", file=sys.stderr)
        return 1
    data, media_type = found
    for tag in tags:
        host, name, reference = split(tag)
        assert (host, name) == split(source)[:2], "the stand-in retags within one repository"
        request = urllib.request.Request(
            f"http://{host}/v2/{name}/manifests/{reference}",
            data=data,
            method="PUT",
            headers={"Content-Type": media_type},
        )
        with urllib.request.urlopen(request, timeout=30):
            pass
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit({"inspect": inspect, "create": create}[command](rest))
