// Command gen writes a deterministic, realistic usage dataset: Parquet
// files, a PostgreSQL COPY load and the matching sandbox seed file.
//
//	go run ./testdata/gen -seed 1 -events 50000 -out testdata/sample
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
