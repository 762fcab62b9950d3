"""Kubernetes adapter: kubectl's rollout semantics (undo, status, history) over the API, and EKS clients.

This is the only package that imports the ``kubernetes`` client (slow to import); import its modules directly:
:mod:`functions.kubernetes.rollouts`, :mod:`functions.kubernetes.client`, :mod:`functions.kubernetes.models`.
"""
