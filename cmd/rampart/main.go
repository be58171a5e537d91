// Command rampart is the one binary of the Rampart DDoS sensor: the sensor
// itself and the tools around it. Only this package sees every component.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "rampart:", err)
		os.Exit(exitCode(err))
	}
}
