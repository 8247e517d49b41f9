package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/billharness/billharness/internal/faultnet"
	"github.com/billharness/billharness/internal/faultnet/faultnettest"
	"github.com/billharness/billharness/internal/objstore/objstoretest"
	"github.com/billharness/billharness/internal/source/sourcetest"
)

// sameRead reads local and remote, which hold the same files (local
// paths under dir are keys under url), and fails unless they give the
// same records, errors and accounting.
func sameRead(t *testing.T, local, remote Spec, dir, url string) Stats {
	t.Helper()
	lr, rr := openSpec(t, local), openSpec(t, remote)
	lrecs, lbad := readAll(t, lr)
	rrecs, rbad := readAll(t, rr)
	toURL := func(p Position) Position {
		rel, err := filepath.Rel(dir, p.File)
		if err != nil {
			t.Fatal(err)
		}
		p.File = url + filepath.ToSlash(rel)
		return p
	}
	if len(lrecs) != len(rrecs) || len(lbad) != len(rbad) {
		t.Fatalf("%s: %d records, %d errors; local %s: %d records, %d errors", remote.Path, len(rrecs), len(rbad), local.Path, len(lrecs), len(lbad))
	}
	for i := range lrecs {
		l, r := lrecs[i], rrecs[i]
		if toURL(l.Pos) != r.Pos || l.Event.ID != r.Event.ID || l.Event.CustomerID != r.Event.CustomerID ||
			l.Event.EventType != r.Event.EventType || l.Event.SubscriptionID != r.Event.SubscriptionID ||
			!l.Event.Timestamp.Equal(r.Event.Timestamp) || string(l.Event.Properties) != string(r.Event.Properties) {
			t.Fatalf("record %d: remote %+v at %v, local %+v at %v", i, r.Event, r.Pos, l.Event, l.Pos)
		}
	}
	for i := range lbad {
		if toURL(lbad[i].Pos) != rbad[i].Pos || lbad[i].Field != rbad[i].Field || lbad[i].Reason != rbad[i].Reason {
			t.Fatalf("record error %d: remote %v, local %v", i, rbad[i], lbad[i])
		}
	}
	ls, rs := lr.Stats(), rr.Stats()
	if rs.Requests == 0 || rs.BytesRead == 0 {
		t.Errorf("remote stats %+v: no requests or bytes counted", rs)
	}
	ls.BytesRead, rs.BytesRead, rs.Requests, rs.Retries = 0, 0, 0, 0
	if ls != rs {
		t.Errorf("stats differ:\nremote %+v\nlocal  %+v", rs, ls)
	}
	checkBalance(t, rr.Stats())
	return rr.Stats()
}

// Read from an S3-compatible server, the sample and every fixture give
// exactly what the same files give locally, whole, by window, by shard;
// a narrow window fetches a fraction of the bytes.
func TestObjectsReadLikeLocalFiles(t *testing.T) {
	t.Parallel()
	b := objstoretest.NewBucket(t)
	b.PutTree(sample+"/parquet", "sample")
	b.PutTree(fixtures, "fixtures")
	remote := func(path string) Spec { return Spec{Kind: KindParquet, Path: b.URL(path), Objects: b.Config} }

	local, rem := sampleSpec(), remote("sample")
	full := sameRead(t, local, rem, sample+"/parquet", b.URL("sample/"))
	m := readManifest(t)
	month, _ := ParseWindow(m.Month)
	local.Window, rem.Window = month, month
	sameRead(t, local, rem, sample+"/parquet", b.URL("sample/"))
	day := Window{From: time.Date(2026, 10, 14, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)}
	local.Window, rem.Window = day, day
	one := sameRead(t, local, rem, sample+"/parquet", b.URL("sample/"))
	if one.BytesRead*2 > full.BytesRead {
		t.Errorf("one day fetched %d bytes, the whole sample %d: row groups outside the window were fetched", one.BytesRead, full.BytesRead)
	}
	for i := range 4 {
		local, rem := sampleSpec(), remote("sample/dt=*")
		local.Shard, rem.Shard = Shard{Index: i, Count: 4}, Shard{Index: i, Count: 4}
		sameRead(t, local, rem, sample+"/parquet", b.URL("sample/"))
	}
	for _, dir := range []string{"duckdb", "arrow", "parquet-go"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.parquet"))
		for _, f := range files {
			spec := Spec{Kind: KindParquet, Path: f}
			key := "fixtures/" + dir + "/" + filepath.Base(f)
			if lr, err := Open(context.Background(), spec); err != nil {
				// Broken or differently named: the object fails the same way.
				_, rerr := Open(context.Background(), remote(key))
				if rerr == nil || !strings.Contains(rerr.Error(), b.URL(key)) || !strings.Contains(rerr.Error(), strings.TrimPrefix(err.Error(), "source: parquet "+f)) {
					t.Errorf("%s: %v; local: %v", key, rerr, err)
				}
				continue
			} else {
				lr.Close()
			}
			if strings.Contains(f, "corrupt") {
				continue // fails in its pages: TestBrokenFiles
			}
			sameRead(t, spec, remote(key), filepath.Join(fixtures, dir), b.URL("fixtures/"+dir+"/"))
		}
	}
}

// A resumed read of objects skips what the checkpoint covered, reads a
// late object that sorts before its position, and refuses an object
// rewritten since.
func TestObjectsResume(t *testing.T) {
	t.Parallel()
	b := objstoretest.NewBucket(t)
	b.PutTree(sample+"/parquet", "usage")
	spec := Spec{Kind: KindParquet, Path: b.URL("usage"), Objects: b.Config}
	all, _ := readAll(t, openSpec(t, spec))

	r := openSpec(t, spec)
	var last Record
	for range len(all) / 2 {
		rec, err := r.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		last = rec
	}
	cov := r.Cover(last.Pos)
	cov.Rows = r.Stats().Through

	// A late partition, sorting first.
	late, err := os.ReadFile(sample + "/parquet/dt=2026-09-29/part-0000.parquet")
	if err != nil {
		t.Fatal(err)
	}
	b.Put("usage/dt=2026-01-01/late.parquet", late)
	resumed := spec
	resumed.After, resumed.Resume = last.Pos, &cov
	r2 := openSpec(t, resumed)
	rest, _ := readAll(t, r2)
	st := r2.Stats()
	lateRows := int64(0)
	for _, rec := range rest {
		if strings.HasSuffix(rec.Pos.File, "late.parquet") {
			lateRows++
		}
	}
	if st.Late == 0 || st.Late != lateRows || int64(len(rest)) != int64(len(all))-cov.Rows+lateRows {
		t.Errorf("resumed: %d records (%d from the late object), Stats %+v; want the %d not covered plus the late object's", len(rest), lateRows, st, int64(len(all))-cov.Rows)
	}
	checkBalance(t, st)

	// A covered object rewritten with other content.
	other, err := os.ReadFile(sample + "/parquet/dt=2026-10-21/part-0002.parquet")
	if err != nil {
		t.Fatal(err)
	}
	b.Put(strings.TrimPrefix(cov.Files[0].Path, b.URL("")), other)
	if _, err := Open(context.Background(), resumed); !errors.Is(err, ErrSourceChanged) || !strings.Contains(err.Error(), cov.Files[0].Path) {
		t.Errorf("resume after a covered object was rewritten: %v, want ErrSourceChanged naming it", err)
	}
}

// Throttling, expired tokens, resets and cut bodies on the way to the
// server change nothing in what is read.
func TestObjectsUnderFaults(t *testing.T) {
	t.Parallel()
	b := objstoretest.NewBucket(t)
	b.PutTree(sample+"/parquet", "usage")
	px := faultnettest.Start(t, faultnet.Config{Target: strings.TrimPrefix(b.Config.Endpoint, "http://"), Seed: 5, DropRate: 0.1, CutRate: 0.02})
	faults := &objstoretest.Faults{SlowDownEvery: 4, TooManyEvery: 7, ExpiredEvery: 11}
	cfg := b.Config
	cfg.Endpoint, cfg.HTTPClient, cfg.Attempts, cfg.PartSize = px.URL, &http.Client{Transport: faults}, 40, 64<<10
	st := sameRead(t, sampleSpec(), Spec{Kind: KindParquet, Path: b.URL("usage"), Objects: cfg}, sample+"/parquet", b.URL("usage/"))
	ps := px.Stats()
	t.Logf("stats %+v; proxy %+v; slow-downs %d, 429s %d, expired %d", st, ps, faults.SlowDowns.Load(), faults.TooMany.Load(), faults.Expired.Load())
	if st.Retries == 0 || ps.Dropped == 0 || ps.Cut == 0 || faults.SlowDowns.Load() == 0 || faults.Expired.Load() == 0 {
		t.Errorf("a fault did not bite: stats %+v, proxy %+v", st, ps)
	}
}

type clusteredRow struct {
	ID         string    `parquet:"id"`
	EventType  string    `parquet:"event_type"`
	CustomerID string    `parquet:"customer_id"`
	Timestamp  time.Time `parquet:"timestamp,timestamp(microsecond:utc)"`
	Properties string    `parquet:"properties,json"`
}

// writeCustomers writes 16 customers' events, 300 each, in row groups of
// 300 rows: sorted by customer (a row group per customer) or interleaved
// (every customer in every row group).
func writeCustomers(t *testing.T, path string, sorted bool) {
	t.Helper()
	var rows []clusteredRow
	for i := range 16 * 300 {
		c, k := i/300, i%300
		if !sorted {
			c, k = i%16, i/16
		}
		rows = append(rows, clusteredRow{ID: fmt.Sprintf("evt-%d-%d", c, k), EventType: "api.request", CustomerID: fmt.Sprintf("cus-%d", c),
			Timestamp: time.Date(2026, 10, 1, 0, 0, i, 0, time.UTC), Properties: `{"endpoint":"/v1/chat","bytes":512,"padding":"` + strings.Repeat("x", 200) + `"}`})
	}
	sourcetest.WriteFile(t, path, rows, parquet.MaxRowsPerRowGroup(300))
}

// A shard of data kept by customer fetches the shard key column of every
// row group and the other columns only of the row groups it reads; of data
// that is not, it stops looking after prescanLimit row groups. Either way
// it reads exactly what a local read does.
func TestObjectsShardKeyFirst(t *testing.T) {
	t.Parallel()
	b := objstoretest.NewBucket(t)
	dir := t.TempDir()
	for _, sorted := range []bool{true, false} {
		name := map[bool]string{true: "sorted", false: "interleaved"}[sorted]
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name, "events.parquet")
		writeCustomers(t, path, sorted)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b.Put(name+"/events.parquet", data)
		remote := Spec{Kind: KindParquet, Path: b.URL(name), Objects: b.Config}
		whole := sameRead(t, Spec{Kind: KindParquet, Path: filepath.Join(dir, name)}, remote, filepath.Join(dir, name), b.URL(name+"/"))
		var fetched int64
		for i := range 4 {
			local, rem := Spec{Kind: KindParquet, Path: filepath.Join(dir, name)}, remote
			local.Shard, rem.Shard = Shard{Index: i, Count: 4}, Shard{Index: i, Count: 4}
			st := sameRead(t, local, rem, filepath.Join(dir, name), b.URL(name+"/"))
			fetched += st.BytesRead
			if !sorted && st.Requests > whole.Requests+2*prescanLimit {
				t.Errorf("interleaved, shard %d/4: %d requests, the whole read %d: the pre-scan did not stop", i, st.Requests, whole.Requests)
			}
		}
		t.Logf("%s: whole read %d bytes in %d requests; the four shards %d bytes", name, whole.BytesRead, whole.Requests, fetched)
		if sorted && fetched > whole.BytesRead*3/2 {
			t.Errorf("sorted by customer: the four shards fetched %d bytes, the whole read %d: each shard fetched other shards' columns", fetched, whole.BytesRead)
		}
	}
}
