"""The operator as one object: `gpai run`, the tests, the demo and the benchmarks start it the same way.

This is where the controller (watches, reconciler, leadership, endpoints) and the admission webhook
are put together, above both: neither of them imports the other.

    operator = Operator(Options(kubeconfig="...", webhook=False), Runtime(clock=ManualClock(...)))
    await operator.run(stop)                      # in an event loop, until `stop` is set
    OperatorThread(operator).start()              # or in a thread, for tests

Data flows one way: the watches (controller/watches.py) -> StateSync -> runtime.state -> Reconciler
(engine) -> status, Events, annotations (leader only) and runtime.verdicts -> admission answers,
metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gpai_operator.admission import handlers as admission
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.admission.serving import WebhookThread
from gpai_operator.controller import derived_kinds, metrics
from gpai_operator.controller.access import DelegatedAccess
from gpai_operator.controller.derived import DerivedSource
from gpai_operator.controller.endpoints import Endpoints, Listen
from gpai_operator.controller.kube import ConfigurationError, Credentials, KubeClient, load_credentials
from gpai_operator.controller.leadership import Leadership, LeaseSettings, own_identity
from gpai_operator.controller.preflight import Discovery, preflight, serves
from gpai_operator.controller.reconciler import Reconciler
from gpai_operator.controller.resources import NAMESPACES, OUR_KINDS, Watched, workload_watches
from gpai_operator.controller.watches import Watches
from gpai_operator.controller.wiring import Loop, build_loop
from gpai_operator.controller.writer import ApiWriter
from gpai_operator.engine import WorkloadKinds
from gpai_operator.policy_reports import FORMATS
from gpai_operator.runtime import ReloadingContext, Runtime, audit, audit_exception

logger = logging.getLogger("gpai_operator.operator")


def default_bind_address() -> str:
    """All interfaces inside a pod (probes and scrapes come from outside), loopback elsewhere."""
    return "0.0.0.0" if os.environ.get("KUBERNETES_SERVICE_HOST") else "127.0.0.1"


@dataclass
class Options:
    """Everything `gpai run` can be told; the defaults are the in-cluster ones."""

    namespaces: tuple[str, ...] = ()  # empty: cluster-wide
    kubeconfig: str | None = None
    context: str | None = None
    webhook: bool = True
    webhook_address: str = field(default_factory=default_bind_address)
    webhook_port: int = 9443
    webhook_cert_file: str | None = None
    webhook_key_file: str | None = None
    webhook_client_ca_file: str | None = None  # require the API server's client certificate (this CA)
    webhook_client_names: tuple[str, ...] = ()  # ... with one of these names (CN or DNS SAN)
    bind_address: str = field(default_factory=default_bind_address)  # metrics and health
    metrics_port: int | None = 8080  # None: no metrics endpoint
    metrics_secure: bool = True  # HTTPS and TokenReview/SubjectAccessReview; False: open plain HTTP
    metrics_cert_file: str | None = None  # default: the webhook's certificate
    metrics_key_file: str | None = None
    health_port: int | None = 8081  # None: no health endpoint
    # Leader election on this Lease (None: standalone, this replica always writes).
    leader_election: LeaseSettings | None = None
    identity: str | None = None
    write_concurrency: int = 64  # writes in flight at once (keeps pace with a burst; docs/operator.md)
    retry_delay: float = 5.0
    # More pod-producing kinds (GROUP/VERSION/RESOURCE:KIND:PATH[,PATH]) and more trusted controller
    # identities (usernames) than the built-in ones.
    workload_kinds: tuple[str, ...] = ()
    trusted_controllers: tuple[str, ...] = ()
    # Policy reports: "openreports", "wgpolicyk8s" (policy_reports.FORMATS) or "off"; written where
    # the cluster serves their kinds (Operator._report_sources), unlike the derived kinds above.
    reports: str = "off"
    # Write an AdmissionVerdicts into every namespace the native gate covers: every namespace but
    # these (admission.mode native or both).
    admission_verdicts: bool = False
    verdicts_excluded_namespaces: tuple[str, ...] = ("kube-system",)

    def derived(self) -> tuple[DerivedSource, ...]:
        """The kinds this operator derives wholly from its state (controller/derived.py)."""
        if not self.admission_verdicts:
            return ()
        return (derived_kinds.admission_verdicts(self.verdicts_excluded_namespaces, self.namespaces),)

    # On a stop, go unready and keep answering reviews this long before closing the webhook, so
    # that endpoints (and so the Service) stop sending new ones first; reviews in flight finish.
    shutdown_delay: float = 0.0


class Operator:
    def __init__(self, options: Options, runtime: Runtime | None = None) -> None:
        self.options = options
        self.runtime = runtime or Runtime()
        self.runtime.state.kinds = WorkloadKinds.with_extra(options.workload_kinds)
        self.identity = options.identity or own_identity()
        self.reconciler: Reconciler | None = None
        self.leadership: Leadership | None = None
        self.endpoints: Endpoints | None = None
        self.discovery: Discovery | None = None
        self.reports: tuple[DerivedSource, ...] = ()  # the policy reports' sources, where served
        self.webhook: WebhookThread | None = None
        self.stopping = False
        self._tasks: list[asyncio.Task[Any]] = []

    # ---- probes -------------------------------------------------------------------------------
    def ready(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "stopping: draining admission reviews"
        if not self.runtime.synced:
            return False, "state not synced yet (start-up listing)"
        if self.options.webhook and not self.runtime.webhook_serving:
            return False, "admission webhook not serving yet"
        return True, "ready"

    def alive(self) -> tuple[bool, str]:
        for task in self._tasks:
            if task.done():
                return False, f"{task.get_name()} has stopped"
        if self.webhook is not None and not self.webhook.alive:
            return False, "the admission webhook's thread has stopped"
        return True, "ok"

    @property
    def leading(self) -> bool:
        return self.leadership is not None and self.leadership.leading

    @property
    def metrics_authenticated(self) -> bool:
        return self.options.metrics_port is not None and self.options.metrics_secure

    # ---- running ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Check the cluster, then serve until `stop` is set (`gpai run` sets it on SIGINT/SIGTERM)."""
        options = self.options
        metrics_tls = self._metrics_tls()
        credentials = load_credentials(options.kubeconfig, options.context)
        client = KubeClient(credentials, concurrency=options.write_concurrency)
        try:
            self.discovery = await preflight(
                client,
                options.namespaces,
                options.leader_election,
                self.runtime.state.kinds,
                metrics_auth=self.metrics_authenticated,
                derived=[source.kind for source in options.derived()],
            )
            self.reports = await self._report_sources(client)
            audit(
                logger,
                "starting",
                identity=self.identity,
                server=credentials.server,
                kubernetes=self.discovery.server_version,
                scope=",".join(options.namespaces) or "cluster-wide",
                leader_election=_lease_text(options.leader_election),
                kserve="installed"
                if self.discovery.kserve
                else "not installed (watched once its CRD appears)",
                webhook=f"{options.webhook_address}:{options.webhook_port}" if options.webhook else "off",
                admission_verdicts="written, outside " + ",".join(options.verdicts_excluded_namespaces)
                if options.admission_verdicts
                else "off",
                reports=", ".join(source.kind.kind for source in self.reports) or "off",
                metrics="off"
                if options.metrics_port is None
                else "https, authorized callers only"
                if self.metrics_authenticated
                else "http, open",
            )
            await self._serve(self._build(client, credentials, metrics_tls), stop or asyncio.Event())
        finally:
            await client.close()

    async def _report_sources(self, client: KubeClient) -> tuple[DerivedSource, ...]:
        """The policy reports to write (`--reports`): none when off, or when the cluster does not serve
        their kinds (said in the log: install the CRD, then restart the operator)."""
        if self.options.reports == "off":
            return ()
        sources = derived_kinds.policy_reports(FORMATS[self.options.reports])
        for source in sources:
            if not await serves(client, source.kind.api_version, source.kind.plural):
                audit(
                    logger,
                    "policy reports not written: their kind is not served",
                    kind=f"{source.kind.api_version} {source.kind.kind}",
                    fix="install its CustomResourceDefinition, then restart the operator",
                )
                return ()
        return sources

    def _metrics_tls(self) -> ReloadingContext | None:
        """The metrics listener's TLS when metrics are authenticated; raises ConfigurationError
        when there is no certificate for it (a bearer token must not cross the network in clear)."""
        if not self.metrics_authenticated:
            return None
        options = self.options
        cert = options.metrics_cert_file or (options.webhook_cert_file if options.webhook else None)
        key = options.metrics_key_file or (options.webhook_key_file if options.webhook else None)
        if not cert or not key:
            raise ConfigurationError(
                "authenticated metrics are served over HTTPS and need a certificate: give "
                "--metrics-cert-file and --metrics-key-file (or the webhook's), or serve them open "
                "with --no-metrics-secure"
            )
        return ReloadingContext(cert, key)

    def _build(
        self, client: KubeClient, credentials: Credentials, metrics_tls: ReloadingContext | None
    ) -> _Parts:
        """Every part of one run, wired to the others; nothing runs yet."""
        options, runtime = self.options, self.runtime
        derived = (*options.derived(), *self.reports)
        watched = (
            *OUR_KINDS,
            NAMESPACES,
            *workload_watches(runtime.state.kinds),
            *(source.kind.watched for source in derived),
        )
        plurals = {w.kind: w.plural for w in watched}
        loop = build_loop(
            runtime,
            ApiWriter(client, plurals, leading=lambda: self.leading),
            leading=lambda: self.leading,
            instance=self.identity,
            concurrency=options.write_concurrency,
            retry_delay=options.retry_delay,
            derived=derived,
        )
        self.reconciler = loop.reconciler
        self.leadership = Leadership(
            client if options.leader_election else None,
            options.leader_election,
            self.identity,
            on_change=loop.reconciler.leadership_changed,
        )
        served, awaited = _served(watched, self.discovery)
        # The watches have a connection pool of their own: a long-lived stream per resource must not
        # take a slot from the writes.
        watches = Watches(
            KubeClient(credentials, concurrency=0),
            loop.sync,
            served,
            self.options.namespaces,
            awaited=awaited,
        )
        self.endpoints = Endpoints(
            Listen(options.bind_address, options.metrics_port) if options.metrics_port is not None else None,
            Listen(options.bind_address, options.health_port) if options.health_port is not None else None,
            alive=self.alive,
            ready=self.ready,
            access=DelegatedAccess(client) if metrics_tls is not None else None,
            tls=metrics_tls,
        )
        tallies = loop.reconciler.tallies

        def snapshot() -> metrics.Snapshot:
            return metrics.take_snapshot(runtime, tallies, ready=self.ready()[0], leading=self.leading)

        return _Parts(
            client=client,
            loop=loop,
            leadership=self.leadership,
            endpoints=self.endpoints,
            watches=watches,
            webhook=self._admission_server(),
            snapshot=snapshot,
        )

    async def _serve(self, parts: _Parts, stop: asyncio.Event) -> None:
        """Run the parts until `stop` is set or one of them stops: our tasks first, then the listing,
        then (once the state is complete) the watches, from the versions listed."""
        metrics.install(parts.snapshot)
        await parts.endpoints.start()
        if parts.webhook is not None:
            self.webhook = await asyncio.to_thread(parts.webhook.start)
        reconciling = asyncio.create_task(parts.loop.reconciler.run(), name="reconciler")
        self._tasks.append(reconciling)
        stopper = asyncio.create_task(stop.wait(), name="stop")
        background = [asyncio.create_task(parts.leadership.run(), name="leadership"), stopper]
        background[0].add_done_callback(_report_failure)
        listing = asyncio.create_task(self._list(parts), name="listing")
        try:
            await asyncio.wait({listing, stopper, reconciling}, return_when=asyncio.FIRST_COMPLETED)
            if _succeeded(listing) and not stop.is_set():
                self._tasks.append(asyncio.create_task(parts.watches.run(), name="watches"))
                await asyncio.wait({stopper, *self._tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            try:
                await self._drain(parts)
                await self._shutdown([listing, *self._tasks, *background])
            finally:
                self.runtime.synced = False
                metrics.uninstall(parts.snapshot)
                await parts.watches.client.close()
                await parts.endpoints.stop()

    async def _drain(self, parts: _Parts) -> None:
        """Unready first, then (after `shutdown_delay`) the webhook closes: in-flight reviews finish,
        and replicas behind the same Service take the new ones meanwhile."""
        self.stopping = True
        if parts.webhook is None:
            return
        if self.options.shutdown_delay > 0 and self.runtime.webhook_serving:
            audit(logger, "draining admission reviews", seconds=self.options.shutdown_delay)
            parts.webhook.drain()
            await asyncio.sleep(self.options.shutdown_delay)
        await asyncio.to_thread(parts.webhook.stop)

    async def _list(self, parts: _Parts) -> None:
        """The state first, from one listing of everything; the watches start from its versions."""
        started = time.monotonic()
        listed = await parts.watches.list_all()
        parts.loop.sync.listed()
        seconds = round(time.monotonic() - started, 2)
        audit(logger, "initial listing done", objects=listed, seconds=seconds)

    def _admission_server(self) -> WebhookThread | None:
        """The webhook, on a thread of its own (admission/serving.py), or None without one."""
        options = self.options
        if not options.webhook:
            return None
        trusted = TrustedControllers.with_extra(options.trusted_controllers)
        assert options.webhook_cert_file
        assert options.webhook_key_file
        server = admission.build_server(
            options.webhook_address,
            options.webhook_port,
            options.webhook_cert_file,
            options.webhook_key_file,
            runtime=self.runtime,
            trusted=trusted,
            client_ca_file=options.webhook_client_ca_file,
            client_names=options.webhook_client_names,
        )
        return WebhookThread(server)

    async def _shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Stop every task (a leader releases its Lease); re-raise the first failure."""
        failure = next(
            (t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()), None
        )
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        audit(logger, "stopped", identity=self.identity)
        if failure is not None:
            raise failure


def _awaiting(coroutine: Any) -> str:
    """file:line of each coroutine down the chain a task is suspended in (Task.get_stack shows only
    the outermost one)."""
    where: list[str] = []
    while coroutine is not None and len(where) < 12:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            where.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return " > ".join(where) or "?"


@dataclass(frozen=True, kw_only=True)
class _Parts:
    """What one run of the operator is made of (`Operator._build`), before anything runs."""

    client: KubeClient
    loop: Loop
    leadership: Leadership
    endpoints: Endpoints
    watches: Watches
    snapshot: Callable[[], metrics.Snapshot]
    webhook: WebhookThread | None


def _served(watched: Iterable[Watched], discovery: Discovery | None) -> tuple[list[Watched], list[Watched]]:
    """The watched kinds served now (optional ones at the version served), and the optional kinds
    not served yet (watched once their CRD is installed)."""
    discovered = discovery.served if discovery is not None else {}
    served = [
        dataclasses.replace(w, version=discovered[w.kind]) if w.optional else w
        for w in watched
        if not w.optional or w.kind in discovered
    ]
    return served, [w for w in watched if w.optional and w.kind not in discovered]


def _succeeded(task: asyncio.Task[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _lease_text(settings: LeaseSettings | None) -> str:
    return f"Lease {settings.namespace}/{settings.name}" if settings else "standalone"


def _report_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        audit_exception(logger, "task failed", task.exception(), task=task.get_name())


class OperatorThread:
    """An Operator in a thread with its own event loop (tests, the demo, benchmarks)."""

    def __init__(self, operator: Operator) -> None:
        self.operator = operator
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self, timeout: float = 60.0, wait_ready: bool = True) -> OperatorThread:
        ready = threading.Event()

        def main() -> None:
            async def serve() -> None:
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                ready.set()
                await self.operator.run(self._stop)

            try:
                asyncio.run(serve())
            except BaseException as error:  # reported by wait_ready/stop
                self.error = error
            finally:
                ready.set()

        self._thread = threading.Thread(target=main, name=f"operator-{self.operator.identity}", daemon=True)
        self._thread.start()
        ready.wait(timeout)
        if wait_ready:
            self.wait(lambda: self.operator.ready()[0], timeout, "the operator to become ready")
        return self

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if self.error is not None:
                raise RuntimeError(f"the operator stopped: {self.error!r}") from self.error
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("the operator thread ended")
            if time.monotonic() > end:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.02)

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` in the operator's event loop (thread-safe)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn)

    def request_stop(self) -> None:
        """Ask the operator to stop (thread- and signal-safe); `join` waits for it."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)

    def join(self) -> None:
        """Wait until the operator has stopped, letting this thread handle signals meanwhile."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def _stuck(self) -> str:
        """Where the operator's thread and its tasks are, for the error of a stop that hangs."""
        import sys
        import traceback

        lines = []
        frame = sys._current_frames().get(self._thread.ident or 0) if self._thread else None
        if frame is not None:
            lines += ["thread:", *traceback.format_stack(frame)[-8:]]
        if self._loop is not None:
            for task in list(asyncio.all_tasks(self._loop)):
                lines.append(f"task {task.get_name()} at {_awaiting(task.get_coro())}")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def stop(self, timeout: float = 60.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"the operator did not stop within {timeout:.0f} s:\n{self._stuck()}")
        if self.error is not None and not isinstance(self.error, (asyncio.CancelledError, KeyboardInterrupt)):
            raise RuntimeError(f"the operator failed: {self.error!r}") from self.error
