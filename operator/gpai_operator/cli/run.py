"""`gpai run`: the operator (watches, reconciliation, admission webhook, metrics and health)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gpai_operator.controller.leadership import LeaseSettings

EXIT_FAILURE = 1
EXIT_USAGE = 2


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0-65535; 0 picks a free one)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the operator against a cluster",
        description=(
            "Watch GPAIModels, their evidence, CompliancePolicies, Namespaces and workloads; keep each "
            "model's status, the workloads' gpai.dev/* annotations and the metrics current; answer "
            "admission reviews. Credentials: the in-cluster service account in a pod, else --kubeconfig, "
            "$KUBECONFIG or ~/.kube/config. Addresses default to all interfaces in a pod, loopback elsewhere."
        ),
    )
    scope = parser.add_argument_group("scope and credentials")
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        metavar="NS",
        help="serve only this namespace (repeat for several); default: every namespace",
    )
    scope.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)"
    )
    scope.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")

    webhook = parser.add_argument_group("admission webhook (HTTPS)")
    webhook.add_argument("--webhook-address", metavar="ADDR", help="listen address (default: see above)")
    webhook.add_argument("--webhook-port", type=_port, default=9443, metavar="PORT", help="default: 9443")
    webhook.add_argument("--webhook-cert-file", metavar="FILE", help="serving certificate (PEM, with chain)")
    webhook.add_argument("--webhook-key-file", metavar="FILE", help="its private key (PEM)")
    webhook.add_argument(
        "--trusted-controller",
        action="append",
        default=[],
        metavar="USERNAME",
        help="a controller identity whose controlled objects are let through unjudged, besides the "
        "kube-system controllers' service accounts and system:kube-controller-manager (repeatable)",
    )
    webhook.add_argument(
        "--webhook-client-ca-file",
        metavar="FILE",
        help="serve only clients presenting a certificate issued by this CA (PEM): the API server's "
        "client certificate for webhooks (docs/security.md); default: no client certificate asked",
    )
    webhook.add_argument(
        "--webhook-client-name",
        action="append",
        default=[],
        metavar="NAME",
        help="with --webhook-client-ca-file: accept only certificates whose common name or a DNS name "
        "is NAME (repeat for several)",
    )
    webhook.add_argument(
        "--shutdown-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on SIGTERM, report not ready and keep answering reviews this long before closing the "
        "webhook, so the Service stops sending reviews to this replica first (the chart sets 5; "
        "default: 0)",
    )
    webhook.add_argument(
        "--no-webhook",
        dest="webhook",
        action="store_false",
        help="do not serve admission reviews (reconcile and metrics only)",
    )

    native = parser.add_argument_group("native admission gate (ValidatingAdmissionPolicy)")
    native.add_argument(
        "--admission-verdicts",
        action="store_true",
        help="write the AdmissionVerdicts the native gate decides by into every namespace it covers, "
        "and delete them where it no longer does (the chart sets it in admission.mode native and both)",
    )
    native.add_argument(
        "--admission-exclude-namespace",
        action="append",
        default=[],
        metavar="NS",
        help="a namespace the native gate does not cover: no verdicts written there (repeatable; "
        "kube-system always; default: kube-system and $POD_NAMESPACE)",
    )

    scope.add_argument(
        "--workload-kind",
        action="append",
        default=[],
        metavar="GROUP/VERSION/RESOURCE:KIND:PATH[,PATH]",
        help="another pod-producing kind to treat as a workload, with the path(s) of its pod template "
        "(repeatable), e.g. argoproj.io/v1alpha1/rollouts:Rollout:spec.template",
    )

    outputs = parser.add_argument_group("policy reports")
    outputs.add_argument(
        "--reports",
        choices=("openreports", "wgpolicyk8s", "off"),
        default="off",
        help="write a policy report per namespace and a cluster summary: openreports (Report and "
        "ClusterReport, openreports.io/v1alpha1, read by Kyverno 1.15+ and Policy Reporter) or "
        "wgpolicyk8s (PolicyReport and ClusterPolicyReport, wgpolicyk8s.io/v1alpha2); written only "
        "where the cluster serves the kind (default: off; the chart turns them on)",
    )

    endpoints = parser.add_argument_group("metrics and health")
    endpoints.add_argument("--bind-address", metavar="ADDR", help="listen address (default: see above)")
    endpoints.add_argument(
        "--metrics-port", type=_port, default=8080, metavar="PORT", help="/metrics (default: 8080)"
    )
    endpoints.add_argument(
        "--metrics-secure",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve /metrics over HTTPS, only to callers the API server authenticates (TokenReview) and "
        "authorises to get the non-resource URL /metrics (SubjectAccessReview); --no-metrics-secure "
        "serves it to anyone over plain HTTP, for clusters that restrict the port with a "
        "NetworkPolicy (default: secure)",
    )
    endpoints.add_argument(
        "--metrics-cert-file", metavar="FILE", help="certificate for /metrics (default: the webhook's)"
    )
    endpoints.add_argument(
        "--metrics-key-file", metavar="FILE", help="its private key (default: the webhook's)"
    )
    endpoints.add_argument(
        "--health-port",
        type=_port,
        default=8081,
        metavar="PORT",
        help="/healthz (liveness) and /readyz (readiness), plain HTTP (default: 8081)",
    )

    replicas = parser.add_argument_group(
        "replicas (every replica watches and answers admission reviews; one writes)"
    )
    replicas.add_argument(
        "--leader-elect",
        action="store_true",
        help="elect the writing replica through a coordination.k8s.io/v1 Lease (use with replicas > 1); "
        "without it this replica always writes",
    )
    replicas.add_argument(
        "--leader-election-id",
        default="gpai-operator",
        metavar="NAME",
        help="the Lease's name (default: %(default)s)",
    )
    replicas.add_argument(
        "--leader-election-namespace",
        metavar="NS",
        help="the Lease's namespace (default: $POD_NAMESPACE, which the chart sets)",
    )
    for flag, default, what in (
        ("--lease-duration", 15.0, "a Lease not seen to change for this long may be taken over"),
        ("--renew-deadline", 10.0, "the leader stops writing when it has not renewed for this long"),
        ("--retry-period", 2.0, "between attempts to acquire or renew"),
    ):
        replicas.add_argument(
            flag, type=float, default=default, metavar="SECONDS", help=f"{what} (default: {default:g})"
        )

    replicas.add_argument(
        "--write-concurrency",
        type=_positive,
        default=64,
        metavar="N",
        help="writes (status, annotations, Events) in flight at once (default: %(default)s)",
    )

    logs = parser.add_argument_group("logs")
    logs.add_argument("--log-format", choices=("text", "json"), default="text", help="default: text")
    logs.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="default: info"
    )
    logs.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also the messages of kopf's webhook server at the same level",
    )
    parser.set_defaults(run=run)


def _usage_problems(args: argparse.Namespace) -> list[str]:
    problems = []
    if args.webhook:
        for flag, path in (
            ("--webhook-cert-file", args.webhook_cert_file),
            ("--webhook-key-file", args.webhook_key_file),
        ):
            if not path:
                problems.append(f"{flag} is required to serve the admission webhook (or pass --no-webhook)")
            elif not os.access(path, os.R_OK):
                problems.append(f"{flag} {path}: not a readable file")
    from gpai_operator.engine import KindSpecError, WorkloadKinds

    try:
        WorkloadKinds.with_extra(args.workload_kind)
    except KindSpecError as error:
        problems.append(f"--workload-kind: {error}")
    if args.leader_elect:
        from gpai_operator.controller.leadership import LeaseSettings

        if not (args.leader_election_namespace or os.environ.get("POD_NAMESPACE")):
            problems.append("--leader-elect needs --leader-election-namespace (or $POD_NAMESPACE)")
        try:
            LeaseSettings("-", "-", args.lease_duration, args.renew_deadline, args.retry_period)
        except ValueError as error:
            problems.append(str(error))
    if args.webhook_client_name and not args.webhook_client_ca_file:
        problems.append("--webhook-client-name needs --webhook-client-ca-file (the CA that issues them)")
    if bool(args.metrics_cert_file) != bool(args.metrics_key_file):
        problems.append("--metrics-cert-file and --metrics-key-file go together")
    if args.metrics_secure and not args.metrics_cert_file and not args.webhook:
        problems.append(
            "--metrics-secure (the default) serves /metrics over HTTPS: give --metrics-cert-file and "
            "--metrics-key-file, or --no-metrics-secure to serve it open over plain HTTP"
        )
    for flag, path in (
        ("--webhook-client-ca-file", args.webhook_client_ca_file),
        ("--metrics-cert-file", args.metrics_cert_file),
        ("--metrics-key-file", args.metrics_key_file),
        ("--kubeconfig", args.kubeconfig),
    ):
        if path and not os.access(path, os.R_OK):
            problems.append(f"{flag} {path}: not a readable file")
    return problems


def _lease(args: argparse.Namespace) -> LeaseSettings | None:
    from gpai_operator.controller.leadership import LeaseSettings

    if not args.leader_elect:
        return None
    return LeaseSettings(
        name=args.leader_election_id,
        namespace=args.leader_election_namespace or os.environ["POD_NAMESPACE"],
        lease_duration=args.lease_duration,
        renew_deadline=args.renew_deadline,
        retry_period=args.retry_period,
    )


def _verdicts_excluded(args: argparse.Namespace) -> tuple[str, ...]:
    """The namespaces the native gate does not cover: those given, else the operator's own; and
    kube-system, always (the chart's policies never match either)."""
    given = args.admission_exclude_namespace or [os.environ.get("POD_NAMESPACE") or ""]
    return tuple(sorted({"kube-system", *filter(None, given)}))


def run(args: argparse.Namespace) -> int:
    problems = _usage_problems(args)
    if problems:
        for problem in problems:
            print(f"gpai run: error: {problem}", file=sys.stderr)
        return EXIT_USAGE

    import logging
    import signal

    from gpai_operator.app import Operator, OperatorThread, Options, default_bind_address
    from gpai_operator.controller.kube import ApiError, ConfigurationError
    from gpai_operator.controller.preflight import PreflightError
    from gpai_operator.runtime import configure

    level = getattr(logging, args.log_level.upper())
    configure(args.log_format, level, kopf_level=level if args.verbose else None)
    options = Options(
        namespaces=tuple(dict.fromkeys(args.namespace)),
        kubeconfig=args.kubeconfig,
        context=args.context,
        webhook=args.webhook,
        webhook_address=args.webhook_address or default_bind_address(),
        webhook_port=args.webhook_port,
        webhook_cert_file=args.webhook_cert_file,
        webhook_key_file=args.webhook_key_file,
        webhook_client_ca_file=args.webhook_client_ca_file,
        webhook_client_names=tuple(dict.fromkeys(args.webhook_client_name)),
        bind_address=args.bind_address or default_bind_address(),
        metrics_port=args.metrics_port,
        metrics_secure=args.metrics_secure,
        metrics_cert_file=args.metrics_cert_file,
        metrics_key_file=args.metrics_key_file,
        health_port=args.health_port,
        leader_election=_lease(args),
        workload_kinds=tuple(args.workload_kind),
        trusted_controllers=tuple(args.trusted_controller),
        admission_verdicts=args.admission_verdicts,
        verdicts_excluded_namespaces=_verdicts_excluded(args),
        reports=args.reports,
        shutdown_delay=max(0.0, args.shutdown_delay),
        write_concurrency=args.write_concurrency,
    )
    # The operator runs in its own thread and this one turns SIGTERM/SIGINT into an orderly stop:
    # kopf, in the main thread, would take the signals itself and stop before the reconciler.
    operator = OperatorThread(Operator(options))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: operator.request_stop())
    operator.start(wait_ready=False)
    operator.join()
    error = operator.error
    if isinstance(error, (ConfigurationError, PreflightError, ApiError, OSError)):
        print(f"gpai run: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if error is not None:
        raise error
    return 0
