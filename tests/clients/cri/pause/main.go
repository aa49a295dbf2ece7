// Command pause is the stand-in for Kubernetes' pause image: a pod's first process. It
// holds the pod's namespaces, reaps the zombies of a shared pid namespace, and exits on
// SIGTERM or SIGINT. It starts no other process (critest looks for processes by name).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
