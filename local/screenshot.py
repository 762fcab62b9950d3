"""Render the approval page as an approver's phone shows it, in headless Chromium (Debian's package).

    python -m local.screenshot --out docs/approval-page.png     (make screenshot)

Starts the pipeline on the emulators, starts a rollback, and opens the on-call approver's emailed link.
Opening the page decides nothing (only its POST does), so the screenshot leaves the rollback waiting.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from local.pipeline import LocalPipeline, rollback_input
from local.synth import synthesize

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=420,900",
]  # fmt: skip


def capture(url: str, out: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (Debian: apt-get install -y chromium)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out.resolve()}", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    if result.returncode != 0 or not out.exists() or out.stat().st_size < 5000:
        raise SystemExit(f"chromium could not render {url}: {result.stderr[-500:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/approval-page.png"))
    args = parser.parse_args(argv)
    with LocalPipeline(synthesize()) as pipeline:
        execution = pipeline.start(rollback_input(to_version="v1.0.0-rc.5"), name="screenshot")
        pipeline.wait_for_state(execution, "Request approval")
        capture(pipeline.link_for("oncall-primary@skillancer.com"), args.out)
        assert pipeline.describe(execution)["status"] == "RUNNING", "opening the page must not decide"
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
