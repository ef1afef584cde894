"""Test and demo support: a real control plane (etcd + kube-apiserver) and helpers around it.

`controlplane` starts or attaches to a cluster, `crds` installs our CRDs, `namespaces` gives each
test its own namespace, `rest` reaches any API path; `processes` and `pki` serve `controlplane`.
See docs/control-plane.md.
"""
