// Command loadgen stress-tests the billing API's event ingestion.
package main

import (
	"github.com/billharness/billharness/internal/cli"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() { cli.Main(run) }

// run is the testable command: main without the process.
var run = cli.Runner(newRootCmd)

// app is what run hands every subcommand.
type app = cli.Env

func newRootCmd(a *app) *cli.Command {
	return &cli.Command{
		Name: "loadgen",
		Description: `Loadgen stress-tests a billing API's event ingestion (POST /v1/events): it
sends synthetic usage events at a set rate, measures latency and errors, and
checks them against pass/fail thresholds.

Every flag can also be set through the environment variable shown in the
command's -h: BILLING_API_URL, BILLING_TOKEN (or BILLING_TOKEN_FILE) and
BILLING_INSECURE_SKIP_VERIFY are shared with reconcile; the others start
with LOADGEN_. A flag given on the command line wins over its variable.

Exit codes: 0 ok, 1 failure, 2 usage error, 4 thresholds failed.`,
		Examples: []string{
			"loadgen -version",
			"loadgen run -h",
			"export BILLING_API_URL=http://127.0.0.1:8080 BILLING_TOKEN_FILE=./token",
		},
		Version: version,
		Subcommands: []*cli.Command{
			newRunCmd(a),
			newReportCmd(a),
		},
	}
}
