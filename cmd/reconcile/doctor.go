package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/doctor"
)

func newDoctorCmd(a *app) *cli.Command {
	var c common
	var asJSON bool
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	c.register(fs)
	cli.Bool(fs, &asJSON, "json", "RECONCILE_DOCTOR_JSON", false, "print the checks as JSON")
	return &cli.Command{
		Name:    "doctor",
		Summary: "check a target API before trusting a job to it",
		Description: `Doctor checks what the other commands rely on, point by point: GET /health,
that the token works and has the scope each command needs (/v1 for replay
and verify, admin for bill and loadgen -setup), the error envelope, and
that the target's /openapi.json has every operation and field the harness
uses. Each point is tagged [doc] (stated in the public API docs) or
[chosen] (undocumented behaviour the harness assumes): a [chosen] point
that differs tells you which assumption to check before a real run.

Every probe is read-only or aimed at an id that cannot exist: doctor never
changes the target.

Exit codes: 0 every check passed, 3 the target differs from the contract,
1 a check could not run (unreachable target, rejected token), 2 usage.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile doctor -api-url http://127.0.0.1:8080",
			"reconcile doctor -api-url https://api.bill.sh -token-file /var/run/secrets/billing/token -json",
		},
		Flags: fs,
		Exec: cli.NoArgs(func(ctx context.Context) error {
			if err := c.API.Validate(); err != nil {
				return err
			}
			cfg, err := c.clientConfig(a, true)
			if err != nil {
				return err
			}
			rep, err := doctor.Run(ctx, cfg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := rep.WriteText(a.Stdout); err != nil {
				return err
			}
			return doctorVerdict(rep)
		}),
	}
}

func doctorVerdict(rep *doctor.Report) error {
	switch failed, differs := rep.Count(doctor.Failed), rep.Count(doctor.Differs); {
	case failed > 0:
		return fmt.Errorf("%d checks could not run", failed)
	case differs > 0:
		return fmt.Errorf("%w: the target differs from the contract in %d points", cli.ErrDiscrepancies, differs)
	}
	return nil
}
