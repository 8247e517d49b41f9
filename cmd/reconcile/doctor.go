package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

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
		Exec: func(ctx context.Context, args []string) error {
			if err := c.api.Validate(); err != nil {
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
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := printDoctor(a.stdout, rep); err != nil {
				return err
			}
			return doctorVerdict(rep)
		},
	}
}

func printDoctor(w io.Writer, rep *doctor.Report) error {
	fmt.Fprintf(w, "target %s\n\n", rep.Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		tag := ""
		if c.Tag != "" {
			tag = "[" + string(c.Tag) + "]"
		}
		detail := ""
		if c.Detail != "" {
			detail = " — " + c.Detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", c.Status, tag, c.Name, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := rep.Problems(); n > 0 {
		_, err := fmt.Fprintf(w, "\n%d of %d checks did not pass\n", n, len(rep.Checks))
		return err
	}
	_, err := fmt.Fprintf(w, "\nall %d checks passed: the target matches the contract\n", len(rep.Checks))
	return err
}

func doctorVerdict(rep *doctor.Report) error {
	failed, differs := 0, 0
	for _, c := range rep.Checks {
		switch c.Status {
		case doctor.Failed:
			failed++
		case doctor.Differs:
			differs++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d checks could not run", failed)
	case differs > 0:
		return fmt.Errorf("%w: the target differs from the contract in %d points", cli.ErrDiscrepancies, differs)
	}
	return nil
}
