"""A fake Kubernetes API server with a deterministic Deployment controller, for tests and the local drill.

Never deployed. The real ``kubernetes`` Python client and the real ``kubectl`` talk HTTPS to it on 127.0.0.1.
Entry point: :class:`local.kube.server.FakeKubernetes`.
"""
