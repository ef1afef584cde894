"""Test and demo support: a real control plane (etcd, kube-apiserver, kube-controller-manager) and
helpers around it.

`controlplane` starts or attaches to a cluster (and kills and restarts its processes), `crds`
installs our CRDs, `namespaces` gives each test its own namespace, `rest` reaches any API path,
`audit` reads who created what and what the operator replicas did; `processes` and `pki` serve
`controlplane`. For the fault tests and benchmarks: `etcd` (compaction), `tcpproxy` (partitions,
a Service over ready replicas), `churn` (steady changes), `oracle` (what the operator should have
written), `operator_process` (`gpai run` as a child process).
See docs/control-plane.md.
"""
