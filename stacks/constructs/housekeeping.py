"""What a platform team expects of every stack: its resources tagged with the service, its owner and its cost
centre (``rollback.tags`` in ``cdk.json``), so cost reports and inventories can name who runs what."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from aws_cdk import Tags
from constructs import IConstruct
from pydantic import AfterValidator

REQUIRED_TAGS = ("service", "owner", "cost-centre")
# What every AWS service accepts in a tag: letters, digits, spaces and _ . : / = + - @
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")


def _valid_tags(tags: dict[str, str]) -> dict[str, str]:
    missing = [key for key in REQUIRED_TAGS if not tags.get(key, "").strip()]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (required: {', '.join(REQUIRED_TAGS)})")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ValueError(f"{key!r}: keys have 1 to 128 characters, values at most 256")
        if key.lower().startswith("aws:"):
            raise ValueError(f"{key!r}: the aws: prefix is reserved")
        if not (_TAG_TEXT.match(key) and _TAG_TEXT.match(value)):
            raise ValueError(f"{key!r}: only letters, digits, spaces and _ . : / = + - @ are allowed")
    return tags


PlatformTags = Annotated[dict[str, str], AfterValidator(_valid_tags)]


def tag_every_resource(scope: IConstruct, tags: Mapping[str, str]) -> None:
    """Every taggable resource under ``scope`` carries ``tags`` (CDK applies them at synth, resource by resource)."""
    for key, value in tags.items():
        Tags.of(scope).add(key, value)
