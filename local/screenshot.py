"""Render the approval page as an approver's phone shows it, in headless Chromium (Debian's package).

    python -m local.screenshot --out docs/approval-page.png     (make screenshot)

Starts the pipeline on the emulators, starts a rollback, and opens the on-call approver's emailed link.
Opening the page decides nothing (only its POST does), so the screenshot leaves the rollback waiting.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from local import approver
from local.pipeline import LocalPipeline, rollback_input
from local.synth import synthesize

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=420,900",
]  # fmt: skip
WINDOW = (420, 900)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk; None if the file is not a PNG."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


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
    if result.returncode != 0 or not out.exists() or out.stat().st_size < 5000 or png_size(out) != WINDOW:
        raise SystemExit(f"chromium could not render {url} (exit {result.returncode}): {result.stderr[-500:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/approval-page.png"))
    args = parser.parse_args(argv)
    with LocalPipeline(synthesize()) as pipeline:
        execution = pipeline.start(rollback_input(to_version="v1.0.0-rc.5"), name="screenshot")
        pipeline.wait_for_state(execution, "Request approval")
        pipeline.approval_requests(count=3)
        link = pipeline.link_for("oncall-primary@skillancer.com")
        page = approver.view(link)  # the review page itself, not a refusal, is what gets rendered
        if page.status != 200 or "Approve" not in page.text or "Reject" not in page.text:
            raise SystemExit(f"the approval page did not open ({page.status}): {page.text[:300]}")
        capture(link, args.out)
        if pipeline.describe(execution)["status"] != "RUNNING":
            raise SystemExit("opening the page must not decide, yet the rollback stopped waiting for approval")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
