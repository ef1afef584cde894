// Command etcd builds the upstream etcd server (3.6) so tests can run
// kube-apiserver without the distribution's older etcd.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
