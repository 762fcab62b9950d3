"""The fake's storage: objects by kind/namespace/name, one global resourceVersion counter, watch fan-out."""

from __future__ import annotations

import builtins
import copy
import hashlib
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]
Key = tuple[str, str, str]  # resource, namespace, name

# resource -> (apiVersion, kind)
KINDS = {
    "deployments": ("apps/v1", "Deployment"),
    "replicasets": ("apps/v1", "ReplicaSet"),
    "pods": ("v1", "Pod"),
}
HISTORY_LIMIT = 10_000
CLOCK_LAG = timedelta(minutes=5)


def now_rfc3339(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Event:
    resource_version: int
    resource: str
    type: str  # ADDED, MODIFIED, DELETED
    object: Json
    previous: Json | None = None


@dataclass
class Watcher:
    resource: str
    namespace: str | None
    events: queue.Queue[Event | None] = field(default_factory=queue.Queue)


class Store:
    """Thread-safe; every public method takes the (re-entrant) lock, and so may callers for compound changes."""

    def __init__(self, seed: str = "fake") -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.objects: dict[Key, Json] = {}
        self.resource_version = 0
        self.uid_counter = 0
        self.last_created = datetime.now(UTC).replace(microsecond=0) - CLOCK_LAG
        self.history: list[Event] = []
        self.history_floor = 0
        self.watchers: list[Watcher] = []
        self.writes = 0  # how many writes ever; the controller uses it to tell a quiet tick

    # --- reading ------------------------------------------------------------------------------------------

    def get(self, resource: str, namespace: str, name: str) -> Json | None:
        with self.lock:
            obj = self.objects.get((resource, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, resource: str, namespace: str | None = None) -> list[Json]:
        with self.lock:
            return [
                copy.deepcopy(obj)
                for (kind, ns, _), obj in sorted(self.objects.items())
                if kind == resource and (namespace is None or ns == namespace)
            ]

    # --- writing ------------------------------------------------------------------------------------------

    def _bump(self) -> str:
        self.resource_version += 1
        self.writes += 1
        return str(self.resource_version)

    def new_uid(self) -> str:
        self.uid_counter += 1
        digest = hashlib.sha256(f"{self.seed}/{self.uid_counter}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _creation_timestamp(self) -> str:
        # Second precision like the real server, but strictly increasing so that creation order is timestamp order
        # (kubectl and the controller sort ReplicaSets by it) even when a test creates many objects per second;
        # running five minutes behind the wall clock keeps them in the past ("<invalid>" ages otherwise).
        moment = max(datetime.now(UTC).replace(microsecond=0) - CLOCK_LAG, self.last_created + timedelta(seconds=1))
        self.last_created = moment
        return now_rfc3339(moment)

    def create(self, resource: str, obj: Json) -> Json:
        with self.lock:
            meta = obj.setdefault("metadata", {})
            key = (resource, meta["namespace"], meta["name"])
            if key in self.objects:
                raise KeyError(key)
            api_version, kind = KINDS[resource]
            obj["apiVersion"], obj["kind"] = api_version, kind
            meta["uid"] = self.new_uid()
            meta["creationTimestamp"] = self._creation_timestamp()
            if resource != "pods":
                meta["generation"] = 1
            meta["resourceVersion"] = self._bump()
            stored = _ordered(obj)
            self.objects[key] = stored
            self._emit("ADDED", resource, stored, None)
            return copy.deepcopy(stored)

    def replace(self, resource: str, obj: Json) -> Json:
        """Store a new version of an existing object (no-op if nothing changed, like etcd3's store)."""
        with self.lock:
            meta = obj["metadata"]
            key = (resource, meta["namespace"], meta["name"])
            current = self.objects[key]
            candidate = _ordered(copy.deepcopy(obj))
            candidate["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if candidate == current:
                return copy.deepcopy(current)
            candidate["metadata"]["resourceVersion"] = self._bump()
            self.objects[key] = candidate
            self._emit("MODIFIED", resource, candidate, current)
            return copy.deepcopy(candidate)

    def touch(self, resource: str, namespace: str, name: str) -> None:
        """A write that changes nothing but the resourceVersion (another client's no-op-looking update)."""
        with self.lock:
            current = self.objects[(resource, namespace, name)]
            previous = copy.deepcopy(current)
            current["metadata"]["resourceVersion"] = self._bump()
            self._emit("MODIFIED", resource, current, previous)

    def delete(self, resource: str, namespace: str, name: str) -> Json | None:
        with self.lock:
            obj = self.objects.pop((resource, namespace, name), None)
            if obj is not None:
                obj = copy.deepcopy(obj)
                obj["metadata"]["resourceVersion"] = self._bump()
                self._emit("DELETED", resource, obj, obj)
            return obj

    # --- watching -----------------------------------------------------------------------------------------

    def _emit(self, kind: str, resource: str, obj: Json, previous: Json | None) -> None:
        event = Event(int(obj["metadata"]["resourceVersion"]), resource, kind, copy.deepcopy(obj), previous)
        self.history.append(event)
        if len(self.history) > HISTORY_LIMIT:
            dropped = self.history[: len(self.history) - HISTORY_LIMIT]
            self.history_floor = dropped[-1].resource_version
            del self.history[: len(dropped)]
        for watcher in self.watchers:
            if watcher.resource == resource and watcher.namespace in (None, obj["metadata"]["namespace"]):
                watcher.events.put(event)

    def watch(self, resource: str, namespace: str | None, since: int | None) -> tuple[Watcher, builtins.list[Event]]:
        """Register a watcher; returns it with the buffered events after ``since`` (None: none).

        Raises LookupError when ``since`` is older than the buffered history (the server's 410 Gone).
        """
        with self.lock:
            replay: builtins.list[Event] = []
            if since is not None:
                if since < self.history_floor:
                    raise LookupError(f"too old resource version: {since} ({self.history_floor})")
                replay = [
                    e
                    for e in self.history
                    if e.resource_version > since
                    and e.resource == resource
                    and namespace in (None, e.object["metadata"]["namespace"])
                ]
            watcher = Watcher(resource, namespace)
            self.watchers.append(watcher)
            return watcher, replay

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            if watcher in self.watchers:
                self.watchers.remove(watcher)

    def close_watchers(self) -> None:
        with self.lock:
            for watcher in self.watchers:
                watcher.events.put(None)
            self.watchers.clear()

    # --- snapshots ----------------------------------------------------------------------------------------

    def snapshot(self) -> Json:
        with self.lock:
            return copy.deepcopy(
                {
                    "objects": self.objects,
                    "resource_version": self.resource_version,
                    "uid_counter": self.uid_counter,
                    "last_created": self.last_created,
                }
            )

    def restore(self, snapshot: Json) -> None:
        with self.lock:
            self.close_watchers()
            state = copy.deepcopy(snapshot)
            self.objects = state["objects"]
            self.resource_version = state["resource_version"]
            self.uid_counter = state["uid_counter"]
            self.last_created = max(self.last_created, state["last_created"])
            self.history = []
            self.history_floor = self.resource_version
            self.writes += 1


def _ordered(obj: Json) -> Json:
    """apiVersion, kind, metadata, spec, status first, as the server writes them."""
    order = ["apiVersion", "kind", "metadata", "spec", "status"]
    return {k: obj[k] for k in order if k in obj} | {k: v for k, v in obj.items() if k not in order}


def iter_owned(objects: builtins.list[Json], owner_uid: str) -> Iterator[Json]:
    for obj in objects:
        if any(
            ref.get("controller") and ref.get("uid") == owner_uid
            for ref in obj["metadata"].get("ownerReferences") or []
        ):
            yield obj


def controller_ref(owner: Json) -> Json:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


Predicate = Callable[[Json], bool]
