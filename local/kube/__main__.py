"""Run the fake cluster by hand: ``python -m local.kube [--seed] [--kubeconfig PATH]``, then point kubectl at it.

python -m local.kube --seed --kubeconfig /tmp/fake-kubeconfig &
kubectl --kubeconfig /tmp/fake-kubeconfig rollout history deployment/skillancer-web
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from local.kube.server import FakeKubernetes
from local.kube.skillancer import seed_skillancer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.kube", description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-name", default="skillancer-prod")
    parser.add_argument("--namespace", default="production")
    parser.add_argument("--seed", action="store_true", help="deploy skillancer-web and skillancer-api (revisions 1-3)")
    parser.add_argument("--kubeconfig", type=Path, help="where to write the kubeconfig (default: a temp file)")
    parser.add_argument("--tick-interval", type=float, default=0.02)
    parser.add_argument("--progress-deadline-ticks", type=int, default=50)
    args = parser.parse_args()
    fake = FakeKubernetes(
        cluster_name=args.cluster_name,
        tick_interval=args.tick_interval,
        progress_deadline_ticks=args.progress_deadline_ticks,
    )
    with fake:
        if args.seed:
            seed_skillancer(fake, namespace=args.namespace)
        path = args.kubeconfig or Path(tempfile.mkdtemp(prefix="fake-kube-")) / "kubeconfig"
        fake.write_kubeconfig(path, namespace=args.namespace)
        print(f"fake cluster {args.cluster_name} at {fake.url}; kubeconfig {path}; Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
