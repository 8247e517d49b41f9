// Package report writes and reads what a load run leaves behind: a text
// summary for the terminal, and in a directory summary.json (headline
// numbers and every counter), series.csv (the per-second series, bounded
// in size), histograms.json (the HDR histograms per status class, in the
// HdrHistogram V2 compressed encoding, which merge exactly) and
// report.html, a self-contained page with latency and throughput over
// time.
//
// Load reads a directory back into a load.Result, so that the runs of a
// distributed test (one per shard) merge into one report with exact
// percentiles.
package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/load"
)

// File names in a result directory.
const (
	SummaryFile    = "summary.json"
	SeriesFile     = "series.csv"
	HistogramsFile = "histograms.json"
	HTMLFile       = "report.html"
)

// Histograms is the content of histograms.json: each class's histogram as
// the base64 HdrHistogram V2 compressed encoding, readable by every
// HdrHistogram implementation.
type Histograms struct {
	Unit               string            `json:"unit"`
	Lowest             int64             `json:"lowest"`
	Highest            int64             `json:"highest"`
	SignificantFigures int64             `json:"significant_figures"`
	Encoding           string            `json:"encoding"`
	Corrected          map[string]string `json:"corrected"`
	Service            map[string]string `json:"service"`
}

// Write writes the four files of res into dir, creating it. s is res's
// summary, with thresholds and verification filled in.
func Write(dir string, res *load.Result, s *load.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{SummaryFile, func(w io.Writer) error { return writeJSON(w, s) }},
		{SeriesFile, func(w io.Writer) error { return WriteSeries(w, res.Series.Points) }},
		{HistogramsFile, func(w io.Writer) error { return WriteHistograms(w, res) }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, res, s) }},
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), 0o644, f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteHistograms writes histograms.json.
func WriteHistograms(w io.Writer, res *load.Result) error {
	h := Histograms{
		Unit: "us", Lowest: load.HistLowest, Highest: load.HistHighest, SignificantFigures: load.HistSigFigs,
		Encoding:  "HdrHistogram V2 compressed, base64",
		Corrected: map[string]string{}, Service: map[string]string{},
	}
	for c := range load.NumClasses {
		for _, x := range []struct {
			dst map[string]string
			h   *hdr.Histogram
		}{{h.Corrected, res.Corrected[c]}, {h.Service, res.Service[c]}} {
			b, err := x.h.Encode(hdr.V2CompressedEncodingCookieBase)
			if err != nil {
				return fmt.Errorf("encode %s histogram: %w", c, err)
			}
			x.dst[c.String()] = string(b)
		}
	}
	return writeJSON(w, h)
}

// readHistograms reads histograms.json.
func readHistograms(path string) (corrected, service [load.NumClasses]*hdr.Histogram, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return corrected, service, err
	}
	var h Histograms
	if err := json.Unmarshal(b, &h); err != nil {
		return corrected, service, fmt.Errorf("%s: %w", path, err)
	}
	for c := range load.NumClasses {
		for _, x := range []struct {
			src map[string]string
			dst *[load.NumClasses]*hdr.Histogram
		}{{h.Corrected, &corrected}, {h.Service, &service}} {
			enc, ok := x.src[c.String()]
			if !ok {
				return corrected, service, fmt.Errorf("%s: no %s histogram", path, c)
			}
			dec, err := hdr.Decode([]byte(enc))
			if err != nil {
				return corrected, service, fmt.Errorf("%s: %s histogram: %w", path, c, err)
			}
			x.dst[c] = dec
		}
	}
	return corrected, service, nil
}

// seriesHeader names series.csv's columns. Latencies are milliseconds.
var seriesHeader = []string{"time", "seconds", "asked", "sent", "dropped", "2xx", "4xx", "429", "5xx", "error", "inflight",
	"corrected_p50_ms", "corrected_p90_ms", "corrected_p99_ms", "corrected_max_ms",
	"service_p50_ms", "service_p90_ms", "service_p99_ms", "service_max_ms"}

// WriteSeries writes series.csv: one row per step, time in RFC 3339.
func WriteSeries(w io.Writer, points []load.Point) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(seriesHeader); err != nil {
		return err
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, p := range points {
		row := []string{p.Time.UTC().Format(time.RFC3339Nano), strconv.FormatFloat(p.Seconds, 'f', 3, 64),
			n(p.Asked), n(p.Sent), n(p.Dropped)}
		for _, c := range p.Counts {
			row = append(row, n(c))
		}
		row = append(row, n(p.InFlight))
		for _, l := range []load.PointLatency{p.Corrected, p.Service} {
			row = append(row, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// readSeries reads series.csv.
func readSeries(path string) ([]load.Point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.FieldsPerRecord = len(seriesHeader)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	var out []load.Point
	for i, row := range rows[1:] {
		p, err := parsePoint(row)
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", path, i+2, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePoint(row []string) (load.Point, error) {
	var p load.Point
	var errs []error
	t, err := time.Parse(time.RFC3339Nano, row[0])
	errs = append(errs, err)
	p.Time = t
	p.Seconds, err = strconv.ParseFloat(row[1], 64)
	errs = append(errs, err)
	ints := []*int64{&p.Asked, &p.Sent, &p.Dropped}
	for c := range p.Counts {
		ints = append(ints, &p.Counts[c])
	}
	ints = append(ints, &p.InFlight)
	for i, dst := range ints {
		*dst, err = strconv.ParseInt(row[2+i], 10, 64)
		errs = append(errs, err)
	}
	lat := []*time.Duration{&p.Corrected.P50, &p.Corrected.P90, &p.Corrected.P99, &p.Corrected.Max,
		&p.Service.P50, &p.Service.P90, &p.Service.P99, &p.Service.Max}
	for i, dst := range lat {
		v, err := strconv.ParseFloat(row[2+len(ints)+i], 64)
		errs = append(errs, err)
		*dst = time.Duration(v * float64(time.Millisecond)).Round(time.Microsecond)
	}
	return p, errors.Join(errs...)
}

// Load reads a result directory written by Write back into the run's
// result and its saved summary.
func Load(dir string) (*load.Result, *load.Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", dir, err)
	}
	var s load.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("load %s: %s: %w", dir, SummaryFile, err)
	}
	corrected, service, err := readHistograms(filepath.Join(dir, HistogramsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", dir, err)
	}
	points, err := readSeries(filepath.Join(dir, SeriesFile))
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", dir, err)
	}
	res, err := s.Result(corrected, service, points)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return res, &s, nil
}
