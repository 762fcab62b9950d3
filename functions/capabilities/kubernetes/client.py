"""Kubernetes API clients for an EKS cluster, authenticated with an IAM token (no kubectl, no AWS CLI).

The token is what ``aws eks get-token`` / aws-iam-authenticator produce: ``k8s-aws-v1.`` + the unpadded base64url
of a presigned STS ``GetCallerIdentity`` GET URL whose signed headers include ``x-k8s-aws-id: <cluster name>``.
EKS accepts it for 15 minutes from its ``X-Amz-Date``; the clients regenerate it after 10.

The clients are :mod:`.api`'s (JSON over urllib3), not the ``kubernetes`` package's: see there why.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

from functions.capabilities.kubernetes.api import ApiClient, AppsV1, Configuration, CoreV1

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
URL_EXPIRES_SECONDS = 60  # the X-Amz-Expires aws-iam-authenticator and `aws eks get-token` send
TOKEN_REFRESH_SECONDS = 10 * 60  # EKS accepts a token for 15 minutes
_HANDLER_ID = "functions.capabilities.kubernetes.client.x-k8s-aws-id"


def _take_cluster_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params``: move the (non-API) cluster id parameter into the request context."""
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _sign_cluster_id(request: Any, **_: Any) -> None:
    """``before-sign``: add the cluster id header so that SigV4 signs it."""
    if CLUSTER_ID_HEADER in request.context:
        request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]


def eks_token(cluster_name: str, sts_client: Any) -> str:
    """A bearer token for EKS cluster ``cluster_name`` from an STS client (use a regional one)."""
    events = sts_client.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _take_cluster_id, unique_id=_HANDLER_ID + ".params")
    events.register("before-sign.sts.GetCallerIdentity", _sign_cluster_id, unique_id=_HANDLER_ID + ".sign")
    url: str = sts_client.generate_presigned_url(
        "get_caller_identity",
        Params={CLUSTER_ID_HEADER: cluster_name},
        ExpiresIn=URL_EXPIRES_SECONDS,
        HttpMethod="GET",
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class _TokenRefresher:
    """``Configuration.refresh_api_key_hook``: puts a fresh token in place when the current one is 10 min old."""

    def __init__(self, cluster_name: str, sts_client: Any, clock: Callable[[], float] = time.time) -> None:
        # Wall-clock time: EKS judges the token by its X-Amz-Date, and a frozen Lambda sandbox may not see a
        # monotonic clock advance while it sleeps between invocations.
        self.cluster_name = cluster_name
        self.sts_client = sts_client
        self.clock = clock
        self.issued_at: float | None = None
        self._lock = threading.Lock()

    def install(self, configuration: Configuration) -> None:
        self.refresh(configuration, force=True)
        configuration.refresh_api_key_hook = self

    def __call__(self, configuration: Configuration) -> None:
        self.refresh(configuration)

    def refresh(self, configuration: Configuration, *, force: bool = False) -> None:
        with self._lock:
            now = self.clock()
            if force or self.issued_at is None or not 0 <= now - self.issued_at < TOKEN_REFRESH_SECONDS:
                configuration.api_key["BearerToken"] = eks_token(self.cluster_name, self.sts_client)
                configuration.api_key_prefix["BearerToken"] = "Bearer"
                self.issued_at = now


def configuration(*, endpoint: str, ca_data: str | None, cluster_name: str, sts_client: Any) -> Configuration:
    """The client configuration: host, CA (``certificateAuthority.data`` of DescribeCluster), refreshing token."""
    config = Configuration(endpoint.rstrip("/"), ca_cert_data=base64.b64decode(ca_data).decode() if ca_data else None)
    _TokenRefresher(cluster_name, sts_client).install(config)
    return config


def kubernetes_clients(
    *, endpoint: str, ca_data: str | None, cluster_name: str, sts_client: Any
) -> tuple[AppsV1, CoreV1]:
    """The apps/v1 and core/v1 clients for the cluster, sharing one connection pool."""
    api_client = ApiClient(
        configuration(endpoint=endpoint, ca_data=ca_data, cluster_name=cluster_name, sts_client=sts_client)
    )
    return AppsV1(api_client), CoreV1(api_client)
