"""Who may create and change controlled objects without their being judged (SPEC section 3).

An ownerReference proves nothing: anyone who can create a Pod can write one naming any object. What
does prove something is who sends the request. The controllers of kube-controller-manager each act
as their own service account (`--use-service-account-credentials`, the default of kubeadm and every
managed offering), or as `system:kube-controller-manager` where they share one identity. A
controlled object from one of these identities was made from an object the gate already judged (a
ReplicaSet from its Deployment, a Pod from its ReplicaSet), so it is let through: scale-ups and
restarts keep working whatever the model's state. The same object from anyone else is judged.

Third-party controllers (KServe's, Knative's, Argo Rollouts') are added by configuration
(`gpai run --trusted-controller`, the chart's `admission.trustedControllers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_SYSTEM_SERVICE_ACCOUNTS = "system:serviceaccount:kube-system:"  # the cluster's own controllers
_KUBE_SYSTEM_CONTROLLERS = (
    "replicaset-controller",
    "deployment-controller",
    "statefulset-controller",
    "daemon-set-controller",
    "job-controller",
    "cronjob-controller",
    "replication-controller",
)
DEFAULT_TRUSTED_CONTROLLERS: tuple[str, ...] = (
    *(f"system:serviceaccount:kube-system:{name}" for name in _KUBE_SYSTEM_CONTROLLERS),
    KUBE_CONTROLLER_MANAGER,
)


@dataclass(frozen=True)
class TrustedControllers:
    usernames: frozenset[str] = frozenset(DEFAULT_TRUSTED_CONTROLLERS)

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> TrustedControllers:
        return cls(frozenset(DEFAULT_TRUSTED_CONTROLLERS) | {u for u in extra if u})

    def trusts(self, username: str) -> bool:
        return username in self.usernames

    def is_controller(self, username: str) -> bool:
        """A trusted controller or any kube-system service account (the garbage collector, the
        namespace controller...): never a person to warn, so the advice leaves them out."""
        return self.trusts(username) or username.startswith(KUBE_SYSTEM_SERVICE_ACCOUNTS)


DEFAULT = TrustedControllers()
