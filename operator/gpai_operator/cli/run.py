"""`gpai run`: the operator (watches, reconciliation, admission webhook, metrics and health)."""

from __future__ import annotations

import argparse
import os
import sys

EXIT_FAILURE = 1
EXIT_USAGE = 2


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0-65535; 0 picks a free one)")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
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
        "--no-webhook",
        dest="webhook",
        action="store_false",
        help="do not serve admission reviews (reconcile and metrics only)",
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

    replicas = parser.add_argument_group("replicas")
    exclusive = replicas.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--peering",
        metavar="NAME",
        help="elect one writing replica through this ClusterKopfPeering (use with replicas > 1)",
    )
    exclusive.add_argument(
        "--standalone", action="store_true", help="this replica always writes (the default without --peering)"
    )
    replicas.add_argument(
        "--priority", type=int, default=0, help="peering priority: the highest live one writes (default: 0)"
    )

    logs = parser.add_argument_group("logs")
    logs.add_argument("--log-format", choices=("text", "json"), default="text", help="default: text")
    logs.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="default: info"
    )
    logs.add_argument(
        "--verbose", "-v", action="store_true", help="also kopf's own messages at the same level"
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


def run(args: argparse.Namespace) -> int:
    problems = _usage_problems(args)
    if problems:
        for problem in problems:
            print(f"gpai run: error: {problem}", file=sys.stderr)
        return EXIT_USAGE

    import logging
    import signal

    from gpai_operator.controller.app import Operator, OperatorThread, Options, default_bind_address
    from gpai_operator.controller.kube import ApiError, ConfigurationError
    from gpai_operator.controller.logs import configure
    from gpai_operator.controller.preflight import PreflightError

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
        peering=None if args.standalone else args.peering,
        priority=args.priority,
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
