"""Local bundling of the functions' asset: ``pip install --target`` for the Lambda platform, no Docker needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling, aws_lambda

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
PYTHON_VERSION = "3.11"
RUNTIME = aws_lambda.Runtime.PYTHON_3_11
ARCHITECTURE = aws_lambda.Architecture.ARM_64
PLATFORM = "manylinux2014_aarch64"

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt")
# The AWS SDK, which the Lambda runtime provides (pulled in by Powertools' tracer extra).
PRUNED = ("boto3", "botocore", "s3transfer")


@jsii.implements(ILocalBundling)
class PipInstallBundling:
    """Installs ``functions/requirements.txt`` as aarch64 wheels and copies the ``functions`` package."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--requirement", str(REQUIREMENTS), "--target", output_dir,
                "--platform", PLATFORM, "--only-binary=:all:",
                "--python-version", PYTHON_VERSION, "--implementation", "cp",
            ],
            check=True,
        )  # fmt: skip
        for name in PRUNED:
            shutil.rmtree(Path(output_dir) / name, ignore_errors=True)
        shutil.copytree(FUNCTIONS_DIR, Path(output_dir) / "functions", ignore=IGNORED, dirs_exist_ok=True)
        return True


def functions_code() -> aws_lambda.Code:
    """One asset for every function (CDK bundles it once): the ``functions`` package plus its dependencies."""
    return aws_lambda.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=PipInstallBundling(),
            command=[
                "bash",
                "-c",
                "pip install -r requirements.txt -t /asset-output && mkdir -p /asset-output/functions"
                " && cp -r . /asset-output/functions",
            ],
        ),
    )
