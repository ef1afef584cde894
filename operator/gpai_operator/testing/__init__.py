"""Test and demo support: a real control plane (etcd, kube-apiserver, kube-controller-manager) and
helpers around it.

`controlplane` starts or attaches to a cluster, `crds` installs our CRDs, `namespaces` gives each
test its own namespace, `rest` reaches any API path, `audit` reads who created what; `processes` and
`pki` serve `controlplane`.
See docs/control-plane.md.
"""
