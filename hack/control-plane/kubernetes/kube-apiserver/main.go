// Command kube-apiserver builds the upstream API server from k8s.io/kubernetes
// so tests can run against a real control plane without Docker.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
