"""Test support: a real control plane (etcd + kube-apiserver) and helpers around it."""
