// Command kube-controller-manager builds the upstream controller manager from the same
// k8s.io/kubernetes module as kube-apiserver, so tests get real Deployments, Jobs and
// namespace finalization without Docker.
package main

import (
	"os"
	_ "time/tzdata" // CronJob spec.timeZone, whatever zoneinfo the machine has

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
