"""Image references as the versions people talk about."""

from __future__ import annotations


def image_version(image: str) -> str:
    """The tag of an image reference (``registry/app:v1.2`` -> ``v1.2``); the digest if pinned by digest."""
    name = image.split("@", 1)[0]
    if "@" in image:
        return image.split("@", 1)[1]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def versions(images: list[str]) -> str:
    return ", ".join(dict.fromkeys(image_version(image) for image in images)) or "unknown"
