// Command sandbox runs the local billing API sandbox: the API contract
// billharness follows, in memory, with fault knobs.
package main

import (
	"github.com/billharness/billharness/internal/cli"
)

func main() { cli.Main(run) }
