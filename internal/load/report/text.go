package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/progress"
)

// maxErrorLines bounds the error kinds the text summary lists.
const maxErrorLines = 10

// WriteText writes the summary people read at the end of a run.
func WriteText(w io.Writer, s *load.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "loadgen %s, shard %s, against %s\n", s.RunID, strings.Join(s.Shards, " "), s.Target)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  model\t%s\n", model(s))
	fmt.Fprintf(tw, "  elapsed\t%s (%s to %s)\n", progress.Latency(time.Duration(s.Elapsed)), s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339))
	fmt.Fprintf(tw, "  requests\tasked %d, sent %d, completed %d, dropped %d (%s of the ticks due)\n",
		s.Asked, s.Sent, s.Completed, s.Dropped, Percent(s.DroppedShare))
	if s.Model == load.ModelOpen {
		fmt.Fprintf(tw, "  rate\t%s achieved of %s asked (%s); 2xx throughput %s\n",
			Rate(s.Rate), Rate(s.AskedRate), ratio(s.Rate, s.AskedRate), Rate(s.Throughput))
	} else {
		fmt.Fprintf(tw, "  rate\t%s achieved (closed model: as fast as answered); 2xx throughput %s\n", Rate(s.Rate), Rate(s.Throughput))
	}
	fmt.Fprintf(tw, "  status\t%s; duplicates %d\n", classes(s), s.Duplicates)
	fmt.Fprintf(tw, "  error rate\t%s\n", Percent(s.ErrorRate))
	switch {
	case s.Interrupted:
		fmt.Fprintf(tw, "  note\tinterrupted before the end of its schedule\n")
	case s.Exhausted:
		fmt.Fprintf(tw, "  note\tthe event source ran out before the end of the schedule\n")
	}
	tw.Flush()

	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  latency\t")
	for _, q := range s.Corrected.Percentiles {
		fmt.Fprintf(tw, "%s\t", load.PercentileName(q.Percentile))
	}
	fmt.Fprintf(tw, "mean\t\n")
	for _, row := range []struct {
		name string
		l    load.Latency
	}{{"corrected", s.Corrected}, {"service", s.Service}} {
		fmt.Fprintf(tw, "  %s\t", row.name)
		for _, q := range row.l.Percentiles {
			fmt.Fprintf(tw, "%s\t", progress.Latency(time.Duration(q.Ms)))
		}
		fmt.Fprintf(tw, "%s\t\n", progress.Latency(time.Duration(row.l.Mean)))
	}
	tw.Flush()
	b.WriteString("  (corrected: from the intended send time; service: from the actual send time)\n")

	if len(s.ByClass) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  class\tcount\tcorrected p50\tcorrected p99\tservice p50\tservice p99\t\n")
		for _, c := range s.ByClass {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t\n", c.Class, c.Count,
				at(c.Corrected, 50), at(c.Corrected, 99), at(c.Service, 50), at(c.Service, 99))
		}
		tw.Flush()
	}

	if len(s.Errors) > 0 {
		b.WriteString("\n  errors\n")
		for i, e := range s.Errors {
			if i == maxErrorLines {
				fmt.Fprintf(&b, "  %8s  (%d more kinds in %s)\n", "", len(s.Errors)-i, SummaryFile)
				break
			}
			fmt.Fprintf(&b, "  %8d  %s\n", e.Count, e.Kind)
		}
	}
	if len(s.Thresholds) > 0 {
		b.WriteString("\n  thresholds\n")
		tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		for _, t := range s.Thresholds {
			fmt.Fprintf(tw, "  %s\t%s\tgot %s\n", passFail(t.Pass), t.Threshold, t.Got)
		}
		tw.Flush()
	}
	if v := s.Verify; v != nil {
		b.WriteString("\n")
		b.WriteString("  " + VerifyLine(v) + "\n")
		for _, m := range v.Mismatches {
			if m.Error != "" {
				fmt.Fprintf(&b, "    %s: %s\n", m.SubscriptionID, m.Error)
				continue
			}
			fmt.Fprintf(&b, "    %s %s: reported %s, accepted %d", m.SubscriptionID, m.Meter, m.Reported, m.Accepted)
			if m.Uncertain > 0 {
				fmt.Fprintf(&b, " (+ up to %d unanswered)", m.Uncertain)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// VerifyLine is the one-line verdict of a verification.
func VerifyLine(v *load.Verification) string {
	if v.Pass {
		return fmt.Sprintf("verify PASS: the usage of all %d subscriptions equals what the API accepted (%d rounds, %s)",
			v.Subscriptions, v.Rounds, progress.Latency(time.Duration(v.Elapsed)))
	}
	return fmt.Sprintf("verify FAIL: %d of %d subscriptions report usage other than what the API accepted (after %s)",
		v.Mismatched, v.Subscriptions, progress.Latency(time.Duration(v.Elapsed)))
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func model(s *load.Summary) string {
	if s.Model == load.ModelOpen {
		return fmt.Sprintf("open, %s; max in-flight %d, %d workers started, %d connections", s.Schedule, s.MaxInFlight, s.Workers, s.Connections)
	}
	return fmt.Sprintf("%s, %d workers, %d connections", s.Model, s.Workers, s.Connections)
}

func classes(s *load.Summary) string {
	var parts []string
	for c := range load.NumClasses {
		n := s.Classes[c.String()]
		part := fmt.Sprintf("%s %d", c, n)
		if n > 0 && s.Completed > 0 {
			part += " (" + Percent(float64(n)/float64(s.Completed)) + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

func at(l load.Latency, p float64) string {
	d, ok := l.At(p)
	if !ok {
		return "-"
	}
	return progress.Latency(d)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*a/b, 'f', 2, 64) + "%"
}

// Rate writes a rate per second: 1234.5/s.
func Rate(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) + "/s" }

// Percent writes a fraction as a percentage with up to 3 decimals.
func Percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*100*1000)/1000, 'f', -1, 64) + "%"
}
