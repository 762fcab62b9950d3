"""The few Kubernetes API calls the rollout adapter makes, as JSON over urllib3: no generated client.

The ``kubernetes`` package cost every cold start of these functions about a second of imports (``make bench``):
``import kubernetes.<anything>`` runs ``kubernetes/__init__.py``, which imports its config loaders (yaml, requests,
oauthlib...), watch, stream, dynamic and informer modules, and ``AppsV1Api`` loads ~280 generated models that the
adapter never used: it reads and patches the server's JSON. urllib3 is already loaded by botocore, so this module
costs next to nothing to import.

What is kept from ``kubernetes.client`` (v37, ``ApiClient`` + ``RESTClientObject`` + ``Configuration``, the
calls the adapter used with ``_preload_content=False``): the URLs and query strings (values quoted with
``urllib.parse.quote``), ``Accept: application/json``, a JSON body, ``Content-Type: application/json-patch+json``
for a list body, the bearer token read through ``Configuration.refresh_api_key_hook`` before every request, TLS
verified against the cluster CA, urllib3's default retries, proxies from the environment (``HTTPS_PROXY``,
``NO_PROXY``), and the exceptions: :class:`ApiException` (``status``, ``reason``, ``body``,
``headers``) and its subclasses per status (``NotFoundException``...), the error names Step Functions sees. Only
the ``User-Agent`` differs: it names this product (the API server's audit log shows who rolled back).
``tests/kubernetes/test_client.py`` checks that the server receives the same requests from both.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlparse
from urllib.request import getproxies

import urllib3

Json = dict[str, Any]

USER_AGENT = "rollback-pipeline/kubernetes_app"
# Every call has a timeout (kubernetes.client has none): a call that gets no answer fails the step as a transient
# error, and the retried step reads back what is true before changing anything.
REQUEST_TIMEOUT = urllib3.Timeout(connect=5.0, read=20.0)
JSON_PATCH = "application/json-patch+json"


class ApiException(Exception):
    """A non-2xx answer of the API server (``body`` is its ``kind: Status``), or ``status`` 0 for a TLS failure."""

    def __init__(
        self,
        status: int = 0,
        reason: str | None = None,
        body: str | None = None,
        headers: Any = None,
    ) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers

    def __str__(self) -> str:
        message = f"({self.status})\nReason: {self.reason}\n"
        if self.headers:
            message += f"HTTP response headers: {self.headers}\n"
        if self.body:
            message += f"HTTP response body: {self.body}\n"
        return message


class BadRequestException(ApiException):
    pass


class UnauthorizedException(ApiException):
    pass


class ForbiddenException(ApiException):
    pass


class NotFoundException(ApiException):
    pass


class ConflictException(ApiException):
    pass


class UnprocessableEntityException(ApiException):
    pass


class ServiceException(ApiException):
    pass


_BY_STATUS: dict[int, type[ApiException]] = {
    400: BadRequestException,
    401: UnauthorizedException,
    403: ForbiddenException,
    404: NotFoundException,
    409: ConflictException,
    422: UnprocessableEntityException,
}


def api_exception(status: int, reason: str | None, body: bytes, headers: Any) -> ApiException:
    """The exception ``kubernetes.client`` raises for this response (``ApiException.from_response``)."""
    kind = _BY_STATUS.get(status) or (ServiceException if 500 <= status <= 599 else ApiException)
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return kind(status, reason, text, headers)


class Configuration:
    """Where the cluster is and how to authenticate: the part of ``kubernetes.client.Configuration`` used here.

    ``refresh_api_key_hook(configuration)`` runs before every request (it renews the EKS token in place).
    """

    def __init__(self, host: str, *, ca_cert_data: str | None = None, verify_ssl: bool = True) -> None:
        self.host = host
        self.ca_cert_data = ca_cert_data
        self.verify_ssl = verify_ssl
        self.api_key: dict[str, str] = {}
        self.api_key_prefix: dict[str, str] = {}
        self.refresh_api_key_hook: Callable[[Configuration], None] | None = None
        self.retries: Any = None  # None: urllib3's default (3 retries of connection errors)
        proxies = getproxies()
        self.proxy: str | None = proxies.get(urlparse(host).scheme) or proxies.get("all")
        self.no_proxy: str | None = proxies.get("no")

    def get_api_key_with_prefix(self, identifier: str) -> str | None:
        if self.refresh_api_key_hook is not None:
            self.refresh_api_key_hook(self)
        key = self.api_key.get(identifier)
        if not key:
            return None
        prefix = self.api_key_prefix.get(identifier)
        return f"{prefix} {key}" if prefix else key


def should_bypass_proxies(url: str, no_proxy: str) -> bool:
    """Whether ``url`` matches a ``NO_PROXY`` rule (``*``, host or domain suffix, host:port, IP or CIDR)."""
    parsed = urlparse(url)
    if not parsed.hostname:
        return True
    host, host_and_port = parsed.hostname.lower(), parsed.netloc.lower()
    try:
        host_ip: Any = ipaddress.ip_address(host)
    except ValueError:
        host_ip = None
    for entry in (entry.strip().lower() for entry in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if host_ip is not None:
            try:
                if host_ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        entry = entry.lstrip(".")
        if entry in (host, host_and_port) or host.endswith("." + entry) or host_and_port.endswith("." + entry):
            return True
    return False


def _pool_manager(configuration: Configuration) -> urllib3.PoolManager:
    options: dict[str, Any] = {
        "cert_reqs": ssl.CERT_REQUIRED if configuration.verify_ssl else ssl.CERT_NONE,
        "ca_cert_data": configuration.ca_cert_data,
        "maxsize": 4,
    }
    if configuration.retries is not None:
        options["retries"] = configuration.retries
    proxy = configuration.proxy
    if proxy and not should_bypass_proxies(configuration.host, configuration.no_proxy or ""):
        if proxy.split("://", 1)[0].lower() in {"socks5", "socks5h", "socks4", "socks4a"}:
            from urllib3.contrib.socks import SOCKSProxyManager

            return SOCKSProxyManager(proxy, **options)
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


def query_string(params: dict[str, Any]) -> str:
    """``a=1&b=x%3Dy``, skipping None values, quoted as ``kubernetes.client`` quotes them."""
    return "&".join(f"{key}={quote(str(value))}" for key, value in params.items() if value is not None)


class ApiClient:
    """One connection pool to the API server; :meth:`request` returns the server's JSON or raises ApiException."""

    def __init__(self, configuration: Configuration) -> None:
        self.configuration = configuration
        self.pool = _pool_manager(configuration)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> Json:
        url = self.configuration.host + path
        if query and (encoded := query_string(query)):
            url += "?" + encoded
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        token = self.configuration.get_api_key_with_prefix("BearerToken")
        if token:
            headers["Authorization"] = token
        data = None
        if body is not None:
            headers["Content-Type"] = content_type or (JSON_PATCH if isinstance(body, list) else "application/json")
            data = json.dumps(body).encode()
        try:
            response = self.pool.request(method, url, body=data, headers=headers, timeout=REQUEST_TIMEOUT)
        except urllib3.exceptions.SSLError as error:
            raise ApiException(0, f"{type(error).__name__}\n{error}") from error
        if not 200 <= response.status <= 299:
            raise api_exception(response.status, response.reason, response.data, response.headers)
        document: Json = json.loads(response.data)
        return document

    def close(self) -> None:
        self.pool.clear()


def _list(api_client: ApiClient, path: str, label_selector: str | None, limit: int | None, cont: str | None) -> Json:
    """One page of a list call (``continue`` is the token of the next page)."""
    return api_client.request("GET", path, query={"continue": cont, "labelSelector": label_selector, "limit": limit})


def _path(*segments: str) -> str:
    return "/".join(quote(segment, safe="") for segment in segments)


class AppsV1:
    """``/apis/apps/v1``: the Deployment and ReplicaSet calls of ``kubectl rollout``."""

    def __init__(self, api_client: ApiClient) -> None:
        self.api_client = api_client

    def read_namespaced_deployment(self, name: str, namespace: str) -> Json:
        return self.api_client.request("GET", f"/apis/apps/v1/namespaces/{_path(namespace, 'deployments', name)}")

    def patch_namespaced_deployment(self, name: str, namespace: str, body: Any, *, content_type: str) -> Json:
        path = f"/apis/apps/v1/namespaces/{_path(namespace, 'deployments', name)}"
        return self.api_client.request("PATCH", path, body=body, content_type=content_type)

    def list_namespaced_replica_set(
        self,
        namespace: str,
        *,
        label_selector: str | None = None,
        limit: int | None = None,
        _continue: str | None = None,
    ) -> Json:
        path = f"/apis/apps/v1/namespaces/{_path(namespace)}/replicasets"
        return _list(self.api_client, path, label_selector, limit, _continue)


class CoreV1:
    """``/api/v1``: listing pods."""

    def __init__(self, api_client: ApiClient) -> None:
        self.api_client = api_client

    def list_namespaced_pod(
        self,
        namespace: str,
        *,
        label_selector: str | None = None,
        limit: int | None = None,
        _continue: str | None = None,
    ) -> Json:
        return _list(self.api_client, f"/api/v1/namespaces/{_path(namespace)}/pods", label_selector, limit, _continue)
