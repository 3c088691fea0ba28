"""The validated scenario: frozen pydantic models. Knows nothing of simpy or zmq.

Field descriptions here are the scenario-format reference (``zsim schema`` prints them).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from zsim.costs import CostModel

SOCKET_TYPES = (
    "REQ", "REP", "DEALER", "ROUTER", "PUB", "SUB", "XPUB", "XSUB", "PUSH", "PULL", "PAIR",
)
SocketType = Literal[
    "REQ", "REP", "DEALER", "ROUTER", "PUB", "SUB", "XPUB", "XSUB", "PUSH", "PULL", "PAIR"
]
TRANSPORTS = ("tcp", "ipc", "inproc", "pgm", "epgm")
# libzmq options.hpp: ZMQ_CONFLATE is honoured only by these socket types.
CONFLATE_TYPES = ("DEALER", "PULL", "PUSH", "PUB", "SUB")

_ENDPOINT = re.compile(r"^(?P<transport>[a-z]+)://(?P<address>.+)$")
_TCP_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9_.\-*]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5}|\*)$")


def _check_endpoint(value: str) -> str:
    m = _ENDPOINT.match(value)
    if not m:
        raise ValueError(f"endpoint must look like transport://address, got {value!r}")
    transport, address = m["transport"], m["address"]
    if transport not in TRANSPORTS:
        raise ValueError(f"unknown transport {transport!r} in {value!r} (one of {TRANSPORTS})")
    if transport in ("tcp", "pgm", "epgm"):
        t = _TCP_ADDRESS.match(address.split(";")[-1])
        if not t or (t["port"] != "*" and not 0 < int(t["port"]) < 65536):
            raise ValueError(f"tcp endpoint must be host:port with port 1-65535, got {value!r}")
    return value


def transport_of(endpoint: str) -> str:
    """``"tcp"`` for ``"tcp://host:5555"``."""
    return endpoint.split("://", 1)[0]


Endpoint = Annotated[str, AfterValidator(_check_endpoint)]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SocketSpec(_Frozen):
    """One socket of a node, with libzmq's option defaults."""

    name: str = Field(min_length=1, description="name the behaviour uses for this socket")
    type: Annotated[SocketType, BeforeValidator(_upper)] = Field(description="ZeroMQ socket type")
    bind: list[Endpoint] = Field(default_factory=list, description="endpoints to bind")
    connect: list[Endpoint] = Field(default_factory=list, description="endpoints to connect to")
    sndhwm: int = Field(1000, ge=0, description="ZMQ_SNDHWM in messages, 0 = unlimited")
    rcvhwm: int = Field(1000, ge=0, description="ZMQ_RCVHWM in messages, 0 = unlimited")
    subscribe: list[str] = Field(
        default_factory=list, description="SUB topic prefixes; '' subscribes to everything"
    )
    linger: int = Field(-1, ge=-1, description="ZMQ_LINGER in ms, -1 = forever")
    reconnect_ivl: int = Field(100, ge=-1, description="ZMQ_RECONNECT_IVL in ms, -1 = never")
    reconnect_ivl_max: int = Field(0, ge=0, description="ZMQ_RECONNECT_IVL_MAX in ms, 0 = off")
    immediate: bool = Field(False, description="ZMQ_IMMEDIATE: no pipe before the handshake")
    conflate: bool = Field(False, description="ZMQ_CONFLATE: keep only the newest message")
    routing_id: str | None = Field(None, description="ZMQ_ROUTING_ID announced to ROUTER peers")
    router_mandatory: bool = Field(False, description="ROUTER: unroutable sends raise")
    router_handover: bool = Field(
        False, description="ROUTER_HANDOVER: a peer announcing a routing id already in use "
        "takes it over (default: the newcomer is ignored, router.cpp identify_peer)")
    req_relaxed: bool = Field(False, description="REQ: allow a new request before the reply")
    req_correlate: bool = Field(False, description="REQ: tag requests, drop stale replies")
    xpub_verbose: bool = Field(False, description="XPUB: pass on duplicate subscriptions")
    xpub_nodrop: bool = Field(False, description="XPUB/PUB: block instead of dropping at HWM")

    @model_validator(mode="after")
    def _consistent(self) -> SocketSpec:
        if not self.bind and not self.connect:
            raise ValueError("a socket needs at least one bind or connect endpoint")
        if self.subscribe and self.type != "SUB":
            raise ValueError(f"subscribe applies to SUB sockets only, not {self.type}")
        if self.conflate and self.type not in CONFLATE_TYPES:
            raise ValueError(f"conflate applies to {', '.join(CONFLATE_TYPES)}, not {self.type}")
        return self


_POINT = re.compile(r"^[A-Za-z0-9_.\-]+(\*)?:[A-Za-z0-9_.\-]+$")


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


def _check_point(value: str | None) -> str | None:
    if value is not None and not _POINT.match(value):
        raise ValueError(f"must be 'node:point' (node may end in '*'), got {value!r}")
    return value


class StartSpec(_Frozen):
    """When a node's behaviour starts: at a time, or after other nodes reach a named point."""

    at: float = Field(0.0, ge=0, description="start time in seconds")
    after: Annotated[str | None, BeforeValidator(_empty_is_none),
                     AfterValidator(_check_point)] = Field(
        None,
        description="'node:point': start once that node has marked that point; "
        "'worker-*:ready' waits for every replica; '' = no condition",
    )
    delay: float = Field(0.0, ge=0, description="extra seconds after the condition")


class NodeSpec(_Frozen):
    """A process: sockets plus a behaviour. ``count`` replicates it as name-1 … name-N."""

    behaviour: str = Field(
        description="built-in behaviour name, or 'module:function': a generator function "
        "(node, params) of yours, which zsim imports and runs (only name code you trust)")
    params: dict[str, Any] = Field(default_factory=dict, description="behaviour parameters")
    sockets: list[SocketSpec] = Field(default_factory=list, description="the node's sockets")
    start: StartSpec = Field(default_factory=StartSpec, description="when the behaviour starts")
    crash_at: float | None = Field(None, ge=0, description="the node dies (SIGKILL) at this time")
    restart_at: float | None = Field(None, ge=0, description="the node starts afresh at this time")
    count: int = Field(1, ge=1, description="replicas, named name-1 … name-N (when given)")
    group: str = Field("", description="(set by the loader) the table this node came from")
    index: int = Field(1, ge=1, description="(set by the loader) replica index, from 1")

    @model_validator(mode="after")
    def _consistent(self) -> NodeSpec:
        names = [s.name for s in self.sockets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"socket names must be unique, got {dupes[0]!r} twice")
        crash, restart = self.crash_at, self.restart_at
        if restart is not None and (crash is None or restart <= crash):
            raise ValueError("restart_at needs a crash_at before it")
        return self

    def socket(self, name: str) -> SocketSpec:
        for s in self.sockets:
            if s.name == name:
                return s
        raise KeyError(name)


class RunSpec(_Frozen):
    """How long to run and what to record."""

    until: float = Field(60.0, gt=0, description="simulated seconds at most")
    stop_after: list[str] = Field(
        default_factory=list,
        description="the run ends once all these nodes' behaviours have returned "
        "(default: when nothing is left to happen, or at 'until')",
    )
    record: Literal["messages", "lifecycle"] = Field(
        "messages",
        description="'messages' logs every send/recv/drop; 'lifecycle' only connections, "
        "crashes and marks (metrics are kept either way)",
    )
    seed: int = Field(0, ge=0, description="default seed (--seed overrides)")


class ExpectSpec(_Frozen):
    """What the scenario expects of a run, so that ``zsim run`` exits 0 when it happens.

    By default a run is expected to end with the nodes of ``run.stop_after`` finished, no node
    hung (a REQ awaiting its reply, a blocked send, a start condition never met) and nothing
    stranded; a scenario about a hang says so here.
    """

    stuck: list[str] = Field(
        default_factory=list,
        description="nodes (names, group tables or name-* wildcards) expected to end the run "
        "hung, e.g. a REQ client whose server died; the run fails if one of them does not",
    )


class CompareSpec(_Frozen):
    """How ``zsim compare`` judges this scenario."""

    model: str | None = Field(
        None, description="closed form to compare with (see zsim.analysis.closed_forms.MODELS)"
    )
    metrics: list[str] = Field(
        default_factory=list,
        description="'node.metric' rows to show ('*' wildcards allowed; default: the "
        "tolerance keys, else every behaviour metric)",
    )
    tolerance: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="metric (or node.metric) → largest relative error sim vs live that passes",
    )


class SweepSpec(_Frozen):
    """The grid ``zsim sweep`` explores when no --grid is given."""

    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="param → values, e.g. { workers = [1, 2, 4, 8] }"
    )
    reps: int | None = Field(None, ge=1, description="replications per grid point")
    metrics: list[str] = Field(
        default_factory=list, description="'node.metric' rows to summarise and plot (default: "
        "the [compare] rows)"
    )


class Scenario(_Frozen):
    """A whole scenario after parameter substitution and replica expansion."""

    name: str = Field(description="the file's stem")
    description: str = Field("", description="the file's opening comment")
    source: str = Field("", description="where it was loaded from")
    params: dict[str, Any] = Field(default_factory=dict, description="resolved parameters")
    run: RunSpec = Field(default_factory=RunSpec)
    model: CostModel = Field(
        default_factory=CostModel,
        description="timing parameters: the machine profile's, overridden by this table",
    )
    profile: str = Field("default", description="(set by the loader) the profile used")
    nodes: dict[str, NodeSpec] = Field(description="node name → node")
    expect: ExpectSpec = Field(default_factory=ExpectSpec, description="what a run should do")
    compare: CompareSpec = Field(default_factory=CompareSpec, description="read by zsim compare")
    sweep: SweepSpec = Field(default_factory=SweepSpec, description="read by zsim sweep")

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        bound: dict[str, str] = {}
        for node_name, node in self.nodes.items():
            for sock in node.sockets:
                for ep in sock.bind:
                    if ep in bound and not ep.endswith(":*"):
                        raise ValueError(
                            f"{ep!r} is bound by both {bound[ep]} and {node_name}.{sock.name}"
                        )
                    bound[ep] = f"{node_name}.{sock.name}"
        for name in self.sweep.grid:
            if name not in self.params:
                raise ValueError(f"sweep.grid names unknown param {name!r}")
        for field, names in (("run.stop_after", self.run.stop_after),
                             ("expect.stuck", self.expect.stuck)):
            for name in names:
                if not self.nodes_matching(name):
                    raise ValueError(f"{field} names unknown node {name!r}")
        return self

    def nodes_matching(self, pattern: str) -> list[str]:
        """The nodes a name in ``stop_after``, ``after`` or ``[expect]`` stands for: a node,
        the replicas of a group table, or ``name-*`` (every node whose name starts so)."""
        def hit(node: str, spec: NodeSpec) -> bool:
            if pattern.endswith("*"):
                return node.startswith(pattern[:-1])
            return node == pattern or spec.group == pattern
        return [n for n, spec in self.nodes.items() if hit(n, spec)]


    def group_members(self, group: str) -> list[str]:
        """Names of the replicas expanded from table ``group``."""
        return [n for n, spec in self.nodes.items() if spec.group == group]

    def inproc_between_nodes(self) -> bool:
        """True when an inproc endpoint links two nodes. inproc needs one context, so such a
        scenario's nodes run as threads of one process (live backend), sharing its
        interpreter; otherwise every node is a process of its own."""
        owners: dict[str, set[str]] = {}
        for name, spec in self.nodes.items():
            for sock in spec.sockets:
                for ep in [*sock.bind, *sock.connect]:
                    if transport_of(ep) == "inproc":
                        owners.setdefault(ep, set()).add(name)
        return any(len(nodes) > 1 for nodes in owners.values())
