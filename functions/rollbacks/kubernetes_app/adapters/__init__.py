"""Kubernetes adapter: kubectl's rollout semantics (undo, status, history) over the API.

The API client and EKS token live in :mod:`functions.capabilities.kubernetes` (other types restart applications
through it). Import the modules directly: :mod:`.rollouts`, :mod:`.models`.
"""
