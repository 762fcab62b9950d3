"""Kubernetes (EKS) access shared by the rollback types: the API over urllib3 with an EKS token, the cluster's
settings, and the rollout restart that makes applications pick up a switched secret."""
