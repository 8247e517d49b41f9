package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newBillCmd(a *app) *cli.Command {
	o := &checkOptions{rate: 100}
	fs := flag.NewFlagSet("bill", flag.ContinueOnError)
	o.register(fs)
	o.registerBill(fs)
	return &cli.Command{
		Name:    "bill",
		Summary: "bill subscriptions for a period and check invoices against source totals",
		Description: `Bill verifies the period's usage as verify does, then calls
POST /admin/v1/subscriptions/<id>/bill for every subscription in scope (or,
with -only-matched, only those whose every pair matched), concurrently and
rate-limited. The API keeps one invoice per subscription and period, so a
second run gets the same invoices. -finalize turns each draft into an open,
numbered invoice. It needs an admin-scope token.

The period must be one billing cycle: a calendar month in UTC.

Every invoice is checked, exactly in 128-bit pico-units: each metered line
is priced again from the verified quantity with the line's model (PerUnit,
Graduated, Volume, Package; fractions rounded half away from zero), each
flat fee prorated by the second from the subscription's start and the end
of its trial, and the total must be the sum of the lines (class
"invoice"); a finalized invoice whose quantities the API's usage has since
left is "late_usage". Every invoice of the subscription is listed: one
whose period overlaps an earlier one is "double_billed", a flat fee for
time before the start or inside the trial "outside_term". Values the API
counts as zero, or negative, are "uncountable", priced at the line's
price. The report states the money of each, per currency: under-billed,
over-billed and at risk.

` + checkHelp + `

Exit codes: 0 every pair and invoice matches, 3 discrepancies found, 1
failure (including a bill or usage call that failed after retries), 2 usage.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile bill -api-url http://127.0.0.1:8080 -source parquet:testdata/sample/parquet -period 2026-10-01..2026-11-01",
			"reconcile bill -source postgres://reader@db/usage -period 2026-10-01..2026-11-01 -only-matched -finalize -out /reports/2026-10",
		},
		Flags: fs,
		Exec:  cli.NoArgs(func(ctx context.Context) error { return o.check(ctx, a, "bill", true) }),
	}
}
