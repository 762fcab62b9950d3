"""The REST semantics of the fake API server, independent of HTTP: discovery, get/list/watch, create/update/patch/
delete of Deployments (plus get/list/watch/delete of ReplicaSets and Pods), errors as ``kind: Status``.
"""

from __future__ import annotations

import base64
import copy
import json
import queue
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from local.kube.defaults import Invalid, default_deployment, go_round_trip, validate_deployment
from local.kube.patches import PatchError, json_patch, merge_patch, strategic_merge_patch
from local.kube.selectors import SelectorError, parse_field_selector, parse_label_selector
from local.kube.store import KINDS, Event, Json, Store
from local.kube.tables import table

VERSION = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.1-fake",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
FIELDS = {
    "deployments": frozenset({"metadata.name", "metadata.namespace"}),
    "replicasets": frozenset({"metadata.name", "metadata.namespace", "status.replicas"}),
    "pods": frozenset({"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "spec.restartPolicy"}),
}
SHORT_NAMES = {"deployments": ["deploy"], "replicasets": ["rs"], "pods": ["po"]}
PATCH_TYPES = {
    "application/json-patch+json": json_patch,
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
}
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_PATH = re.compile(
    r"^/(?:api/v1|apis/apps/v1)(?:/namespaces/(?P<namespace>[^/]+))?/(?P<resource>[a-z]+)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<subresource>[a-z]+))?)?/?$"
)


class ApiError(Exception):
    def __init__(
        self, code: int, reason: str, message: str, details: Json | None = None, *, causes: list[Json] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = dict(details or {})
        if causes:
            self.details["causes"] = causes

    def status(self) -> Json:
        body: Json = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def not_found(resource: str, name: str) -> ApiError:
    group = "apps" if resource in ("deployments", "replicasets") else ""
    qualified = f"{resource}.{group}" if group else resource
    details = {"name": name, "kind": resource, **({"group": group} if group else {})}
    return ApiError(404, "NotFound", f'{qualified} "{name}" not found', details)


@dataclass
class Response:
    code: int
    body: Json | str
    content_type: str = "application/json"


@dataclass
class WatchStream:
    """A watch: events already due, then a live feed until ``stop`` or the timeout."""

    initial: list[Json]
    live: Iterator[Json | None]
    close: Callable[[], None]
    timeout_seconds: float | None = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    content_type: str = ""
    body: bytes = b""
    user: str = ""
    accept: str = ""


def _resource_list(group_version: str, resources: list[tuple[str, str, bool, list[str]]]) -> Json:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": "" if "/" in name else kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": verbs,
                **({"shortNames": SHORT_NAMES[name]} if name in SHORT_NAMES else {}),
                **({"categories": ["all"]} if name in SHORT_NAMES else {}),
                **({"group": "autoscaling", "version": "v1"} if kind == "Scale" else {}),
            }
            for name, kind, namespaced, verbs in resources
        ],
    }


READ = ["get", "list", "watch"]
DISCOVERY: dict[str, Json] = {
    "/apis": {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
            }
        ],
    },
    "/apis/apps": {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    },
    "/api/v1": _resource_list(
        "v1",
        [
            ("namespaces", "Namespace", False, ["get", "list"]),
            ("pods", "Pod", True, [*READ, "delete"]),
        ],
    ),
    "/apis/apps/v1": _resource_list(
        "apps/v1",
        [
            ("deployments", "Deployment", True, ["create", "delete", "get", "list", "patch", "update", "watch"]),
            ("deployments/status", "Deployment", True, ["get", "patch", "update"]),
            ("deployments/scale", "Scale", True, ["get", "patch", "update"]),
            ("replicasets", "ReplicaSet", True, [*READ, "delete"]),
        ],
    ),
}


class Api:
    def __init__(self, store: Store, *, server_address: Callable[[], str]) -> None:
        self.store = store
        self.server_address = server_address
        self.concurrent_writers: set[tuple[str, str]] = set()

    # --- dispatch -----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | WatchStream:
        try:
            return self._dispatch(request)
        except ApiError as error:
            return Response(error.code, error.status())

    def _dispatch(self, request: Request) -> Response | WatchStream:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, "ok", "text/plain")
        if request.method == "GET":
            if path == "/version":
                return Response(200, dict(VERSION))
            if path == "/api":
                address = {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address()}
                return Response(
                    200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [address]}
                )
            if path in DISCOVERY:
                return Response(200, copy.deepcopy(DISCOVERY[path]))
            if path.startswith("/api/v1/namespaces") and path.count("/") <= 4:
                return self._namespaces(path)
        match = _PATH.match(path)
        if not match or match["resource"] not in KINDS or _group_of(path) != _group_of_resource(match["resource"]):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        resource, namespace, name, sub = match["resource"], match["namespace"], match["name"], match["subresource"]
        if sub not in (None, "status", "scale") or (sub is not None and resource != "deployments"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        method = request.method
        if sub == "scale" and namespace is not None and name is not None:
            return self._scale(namespace, name, request)
        if method == "GET" and name is None:
            if request.query.get("watch") in ("true", "1"):
                return self._watch(resource, namespace, request.query)
            listed = self._list(resource, namespace, request.query)
            if _wants_table(request):
                include = request.query.get("includeObject", "Metadata")
                listed = table(resource, listed["items"], listed["metadata"]["resourceVersion"], include_object=include)
            return Response(200, listed)
        if namespace is None and method != "GET":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if method == "GET" and name is not None:
            found = self._get(resource, namespace or "", name)
            if _wants_table(request):
                include = request.query.get("includeObject", "Metadata")
                found = table(resource, [found], found["metadata"]["resourceVersion"], include_object=include)
            return Response(200, found)
        if method == "DELETE" and name is not None:
            return Response(200, self._delete(resource, namespace or "", name, dry_run=_dry_run(request)))
        if resource == "deployments" and namespace is not None:
            if method == "POST" and name is None:
                return Response(
                    201, self.create_deployment(namespace, _decode(request.body), dry_run=_dry_run(request))
                )
            if method == "PUT" and name is not None:
                body = _decode(request.body)
                return Response(
                    200,
                    self.update_deployment(
                        namespace, name, lambda _: body, status_only=sub == "status", dry_run=_dry_run(request)
                    ),
                )
            if method == "PATCH" and name is not None:
                return Response(200, self._patch(namespace, name, request, status_only=sub == "status"))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _namespaces(self, path: str) -> Response:
        names = sorted({ns for (_, ns, _) in self.store.objects} | {"default", "kube-system"})
        parts = path.split("/")
        if len(parts) == 5:
            if parts[4] not in names:
                raise not_found("namespaces", parts[4])
            return Response(200, _namespace(parts[4]))
        items = [{k: v for k, v in _namespace(n).items() if k not in ("kind", "apiVersion")} for n in names]
        rv = str(self.store.resource_version)
        return Response(
            200, {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items}
        )

    # --- reads --------------------------------------------------------------------------------------------

    def _get(self, resource: str, namespace: str, name: str) -> Json:
        obj = self.store.get(resource, namespace, name)
        if obj is None:
            raise not_found(resource, name)
        return obj

    def _filters(self, resource: str, query: dict[str, str]) -> Callable[[Json], bool]:
        try:
            labels = parse_label_selector(query.get("labelSelector"))
            fields = parse_field_selector(query.get("fieldSelector"), FIELDS[resource])
        except SelectorError as error:
            raise ApiError(400, "BadRequest", str(error)) from error
        return lambda obj: labels(obj["metadata"].get("labels") or {}) and fields(obj)

    def _list(self, resource: str, namespace: str | None, query: dict[str, str]) -> Json:
        selected = self._filters(resource, query)
        with self.store.lock:
            items = [obj for obj in self.store.list(resource, namespace) if selected(obj)]
            resource_version = str(self.store.resource_version)
        start = 0
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"].encode()))
                start = int(token["start"])
                resource_version = str(token["rv"])
            except (ValueError, KeyError) as error:
                raise ApiError(400, "BadRequest", "continue key is not valid") from error
        limit = int(query.get("limit") or 0)
        page = items[start : start + limit] if limit > 0 else items[start:]
        metadata: Json = {"resourceVersion": resource_version}
        if limit > 0 and start + limit < len(items):
            token_json = json.dumps({"rv": resource_version, "start": start + limit}).encode()
            metadata["continue"] = base64.urlsafe_b64encode(token_json).decode()
            metadata["remainingItemCount"] = len(items) - start - limit
        api_version, kind = KINDS[resource]
        for item in page:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": page}

    def _watch(self, resource: str, namespace: str | None, query: dict[str, str]) -> WatchStream:
        selected = self._filters(resource, query)
        api_version, kind = KINDS[resource]
        send_initial = query.get("sendInitialEvents") == "true"
        since = query.get("resourceVersion") or ""
        initial: list[Json] = []
        with self.store.lock:
            if send_initial or since in ("", "0"):
                watcher, replay = self.store.watch(resource, namespace, None)
                initial = [
                    {"type": "ADDED", "object": obj} for obj in self.store.list(resource, namespace) if selected(obj)
                ]
                if send_initial:
                    bookmark = {
                        "kind": kind,
                        "apiVersion": api_version,
                        "metadata": {
                            "resourceVersion": str(self.store.resource_version),
                            "annotations": {INITIAL_EVENTS_END: "true"},
                        },
                    }
                    initial.append({"type": "BOOKMARK", "object": bookmark})
            else:
                try:
                    watcher, replay = self.store.watch(resource, namespace, int(since))
                except (LookupError, ValueError):
                    gone = ApiError(410, "Expired", f"too old resource version: {since}")
                    return WatchStream([{"type": "ERROR", "object": gone.status()}], iter(()), lambda: None)
        initial.extend(e for event in replay if (e := _event(event, selected)) is not None)

        def live() -> Iterator[Json | None]:
            while True:
                try:
                    event = watcher.events.get(timeout=0.2)
                except queue.Empty:
                    yield None  # a chance for the caller to check for shutdown or timeout
                    continue
                if event is None:
                    return
                converted = _event(event, selected)
                if converted is not None:
                    yield converted

        timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
        return WatchStream(initial, live(), lambda: self.store.unwatch(watcher), timeout)

    # --- writes -------------------------------------------------------------------------------------------

    def _delete(self, resource: str, namespace: str, name: str, *, dry_run: bool = False) -> Json:
        with self.store.lock:
            if dry_run:
                return self._get(resource, namespace, name)
            obj = self.store.delete(resource, namespace, name)
            if obj is None:
                raise not_found(resource, name)
            self._collect_garbage(namespace, obj["metadata"]["uid"])
        return obj

    def _collect_garbage(self, namespace: str, owner_uid: str) -> None:
        for resource in ("replicasets", "pods"):
            for child in self.store.list(resource, namespace):
                if any(ref.get("uid") == owner_uid for ref in child["metadata"].get("ownerReferences") or []):
                    self.store.delete(resource, namespace, child["metadata"]["name"])
                    self._collect_garbage(namespace, child["metadata"]["uid"])

    def create_deployment(self, namespace: str, body: Json, *, dry_run: bool = False) -> Json:
        meta = body.setdefault("metadata", {})
        if meta.get("namespace", namespace) != namespace:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        if not meta.get("name"):
            raise ApiError(422, "Invalid", 'Deployment.apps "" is invalid: metadata.name: Required value')
        for system in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
            meta.pop(system, None)
        meta["namespace"] = namespace
        body.pop("status", None)
        deployment = default_deployment(body)
        self._validate(deployment, None)
        with self.store.lock:
            if self.store.get("deployments", namespace, meta["name"]) is not None:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'deployments.apps "{meta["name"]}" already exists',
                    {"name": meta["name"], "group": "apps", "kind": "deployments"},
                )
            if dry_run:
                return deployment
            return self.store.create("deployments", deployment)

    def _validate(self, deployment: Json, old: Json | None) -> None:
        try:
            validate_deployment(deployment, old)
        except Invalid as error:
            name = deployment["metadata"].get("name", "")
            message = f'Deployment.apps "{name}" is invalid: ' + ", ".join(f"{f}: {m}" for f, m in error.causes)
            causes = [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in error.causes]
            details = {"name": name, "group": "apps", "kind": "Deployment"}
            raise ApiError(422, "Invalid", message, details, causes=causes) from error

    def update_deployment(
        self,
        namespace: str,
        name: str,
        mutate: Callable[[Json], Json],
        *,
        status_only: bool = False,
        dry_run: bool = False,
    ) -> Json:
        """The update path every write shares: preconditions, defaulting, validation, generation, no-op detection."""
        with self.store.lock:
            current = self._get("deployments", namespace, name)
            candidate = mutate(copy.deepcopy(current))
            if not isinstance(candidate, dict):
                raise ApiError(400, "BadRequest", "the patched object is not a JSON object")
            meta = candidate.setdefault("metadata", {})
            if meta.get("name", name) != name:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})",
                )
            if meta.get("namespace", namespace) != namespace:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            if meta.get("uid") not in (None, current["metadata"]["uid"]):
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on deployments.apps "{name}": Precondition failed: '
                    f"UID in precondition: {meta.get('uid')}, UID in object meta: {current['metadata']['uid']}",
                    {"name": name, "group": "apps", "kind": "deployments"},
                )
            if meta.get("resourceVersion") not in (None, "", current["metadata"]["resourceVersion"]):
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on deployments.apps "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                    {"name": name, "group": "apps", "kind": "deployments"},
                )
            for system in ("uid", "creationTimestamp", "generation", "resourceVersion", "name", "namespace"):
                meta[system] = current["metadata"][system]
            candidate["apiVersion"], candidate["kind"] = "apps/v1", "Deployment"
            if status_only:
                candidate["spec"] = current["spec"]
                meta["labels"] = current["metadata"].get("labels")
                candidate["status"] = go_round_trip(candidate.get("status") or {})
            else:
                candidate["status"] = current.get("status") or {}
            candidate = default_deployment(candidate)
            self._validate(candidate, current)
            if not status_only and (
                candidate["spec"] != current["spec"]
                or candidate["metadata"].get("annotations") != current["metadata"].get("annotations")
            ):
                candidate["metadata"]["generation"] = int(current["metadata"]["generation"]) + 1
            if dry_run:  # ?dryRun=All: everything but the write
                return candidate
            return self.store.replace("deployments", candidate)

    def _scale_of(self, deployment: Json) -> Json:
        meta = deployment["metadata"]
        labels = (deployment["spec"].get("selector") or {}).get("matchLabels") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": deployment["spec"].get("replicas", 1)},
            "status": {
                "replicas": (deployment.get("status") or {}).get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            },
        }

    def _scale(self, namespace: str, name: str, request: Request) -> Response:
        """``deployments/scale`` (``kubectl scale``): GET, PUT and PATCH of an autoscaling/v1 Scale."""
        if request.method == "GET":
            return Response(200, self._scale_of(self._get("deployments", namespace, name)))
        if request.method not in ("PUT", "PATCH"):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

        def mutate(current: Json) -> Json:
            scale = self._scale_of(current)
            wanted = _decode(request.body) if request.method == "PUT" else self._apply_patch(request, scale)
            if (wanted.get("metadata") or {}).get("resourceVersion") not in (
                None,
                "",
                scale["metadata"]["resourceVersion"],
            ):
                current["metadata"]["resourceVersion"] = wanted["metadata"]["resourceVersion"]
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value')
            current["spec"]["replicas"] = replicas
            return current

        return Response(200, self._scale_of(self.update_deployment(namespace, name, mutate, dry_run=_dry_run(request))))

    def _apply_patch(self, request: Request, current: Json) -> Json:
        content_type = request.content_type.split(";")[0].strip()
        if content_type not in PATCH_TYPES:
            if content_type.startswith("application/apply-patch"):
                message = "the fake API server does not implement server-side apply (application/apply-patch+yaml)"
            else:
                accepted = ", ".join(PATCH_TYPES)
                message = f"the body of the request was in an unknown format - accepted media types include: {accepted}"
            raise ApiError(415, "UnsupportedMediaType", message)
        patch = _decode(request.body, allow_list=True)
        try:
            patched: Json = PATCH_TYPES[content_type](current, patch)
        except PatchError as error:
            if error.status == 422:
                cause = {"reason": "UnexpectedServerResponse", "message": str(error)}
                raise ApiError(
                    422, "Invalid", "the server rejected our request due to an error in our request", {}, causes=[cause]
                ) from error
            raise ApiError(400, "BadRequest", str(error)) from error
        return patched

    def _patch(self, namespace: str, name: str, request: Request, *, status_only: bool) -> Json:
        if (namespace, name) in self.concurrent_writers:
            self.concurrent_writers.discard((namespace, name))
            if self.store.get("deployments", namespace, name) is not None:
                self.store.touch("deployments", namespace, name)
        return self.update_deployment(
            namespace,
            name,
            lambda current: self._apply_patch(request, current),
            status_only=status_only,
            dry_run=_dry_run(request),
        )


def _dry_run(request: Request) -> bool:
    return request.query.get("dryRun") == "All"


def _wants_table(request: Request) -> bool:
    return "as=Table" in request.accept and "g=meta.k8s.io" in request.accept


def _group_of(path: str) -> str:
    return "apps" if path.startswith("/apis/apps/") else ""


def _group_of_resource(resource: str) -> str:
    return "apps" if KINDS[resource][0] == "apps/v1" else ""


def _namespace(name: str) -> Json:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _decode(body: bytes, *, allow_list: bool = False) -> Any:
    try:
        value = json.loads(body or b"null")
    except ValueError as error:
        raise ApiError(400, "BadRequest", f"error decoding body: {error}") from error
    if isinstance(value, dict) or (allow_list and isinstance(value, list)):
        return value
    raise ApiError(400, "BadRequest", "the request body must be a JSON object")


def _event(event: Event, selected: Callable[[Json], bool]) -> Json | None:
    """A store event as the watch sends it, translated for the watcher's selectors (leaving the set -> DELETED)."""
    now = selected(event.object)
    before = event.previous is not None and selected(event.previous)
    kind = event.type
    if kind == "MODIFIED":
        if now and not before:
            kind = "ADDED"
        elif before and not now:
            kind = "DELETED"
        elif not now:
            return None
    elif not now:
        return None
    return {"type": kind, "object": copy.deepcopy(event.object)}
