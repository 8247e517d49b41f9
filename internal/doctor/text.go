package doctor

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText writes the report as the doctor command prints it: one line a
// check, then the verdict.
func (rep *Report) WriteText(w io.Writer) error {
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
