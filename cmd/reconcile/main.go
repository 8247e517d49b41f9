// Command reconcile backfills usage events into the billing API and checks
// that what the API bills matches the source data.
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
		Name: "reconcile",
		Description: `Reconcile backfills usage events into a billing API (POST /v1/events) and
checks that the usage and invoices the API reports match the source data
(Parquet files or Postgres).

Every flag can also be set through the environment variable shown in the
command's -h: BILLING_API_URL, BILLING_TOKEN (or BILLING_TOKEN_FILE) and
BILLING_INSECURE_SKIP_VERIFY are shared with loadgen; the others start with
RECONCILE_. A flag given on the command line wins over its variable.

Some of the API behaviour relied upon is not in the public API docs (the
usage endpoint's from/to window, duplicate events answered 200 with
"duplicate":true, the error body, 429 with Retry-After): see "What in the
API contract is assumed" in the README before pointing it at a real API.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 discrepancies found (for
doctor: the target differs from the contract).`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile doctor -api-url http://127.0.0.1:8080",
			"reconcile -version",
			"reconcile replay -h",
			"export BILLING_API_URL=https://api.bill.sh BILLING_TOKEN_FILE=/var/run/secrets/billing/token",
		},
		Version: version,
		Subcommands: []*cli.Command{
			newReplayCmd(a),
			newVerifyCmd(a),
			newBillCmd(a),
			newRunCmd(a),
			newMergeCmd(a),
			newDoctorCmd(a),
		},
	}
}
