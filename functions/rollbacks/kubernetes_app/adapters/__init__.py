"""Kubernetes adapter: kubectl's rollout semantics (undo, status, history) over the API, and EKS clients.

No ``kubernetes`` package: :mod:`.api` makes the few API calls as JSON over urllib3 (the generated client costs a
cold start ~1.5 s of imports). Import the modules directly: :mod:`.rollouts`, :mod:`.client`, :mod:`.api`,
:mod:`.models`.
"""
