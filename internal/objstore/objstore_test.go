package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/faultnet"
	"github.com/billharness/billharness/internal/faultnet/faultnettest"
	"github.com/billharness/billharness/internal/objstore"
	"github.com/billharness/billharness/internal/objstore/objstoretest"
)

func open(t *testing.T, b *objstoretest.Bucket, cfg objstore.Config) *objstore.Store {
	t.Helper()
	s, err := objstore.Open(context.Background(), cfg, b.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func keys(objs []objstore.Object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

// Listings follow the local path rules (file, directory, glob, hidden
// names), read every page, and carry each object's ETag.
func TestList(t *testing.T) {
	b := objstoretest.NewBucket(t)
	etags := map[string]string{}
	for _, k := range []string{
		"usage/dt=2026-10-01/a.parquet", "usage/dt=2026-10-01/_SUCCESS", "usage/dt=2026-10-02/b.parquet",
		"usage/dt=2026-10-02/.tmp/c.parquet", "usage/_temporary/x.parquet", "usage/readme.txt",
		"usage/dt=2026-11-01/n.parquet", "other/z.parquet", "usage2/q.parquet",
	} {
		etags[k] = b.Put(k, []byte("data of "+k))
	}
	for _, pageSize := range []int{0, 2} {
		cfg := b.Config
		cfg.ListPageSize = pageSize
		s := open(t, b, cfg)
		for _, tc := range []struct {
			pattern string
			want    []string
		}{
			{"usage", []string{"usage/dt=2026-10-01/a.parquet", "usage/dt=2026-10-02/b.parquet", "usage/dt=2026-11-01/n.parquet"}},
			{"usage/", []string{"usage/dt=2026-10-01/a.parquet", "usage/dt=2026-10-02/b.parquet", "usage/dt=2026-11-01/n.parquet"}},
			{"usage/dt=2026-10-*", []string{"usage/dt=2026-10-01/a.parquet", "usage/dt=2026-10-02/b.parquet"}},
			{"usage/dt=2026-10-0?/*.parquet", []string{"usage/dt=2026-10-01/a.parquet", "usage/dt=2026-10-02/b.parquet"}},
			{"usage/dt=2026-10-01/_SUCCESS", []string{"usage/dt=2026-10-01/_SUCCESS"}},
			{"usage/*/a.parquet", []string{"usage/dt=2026-10-01/a.parquet"}},
			{"*/z.parquet", []string{"other/z.parquet"}},
		} {
			objs, err := s.List(context.Background(), tc.pattern, ".parquet")
			if err != nil {
				t.Fatalf("page size %d, %s: %v", pageSize, tc.pattern, err)
			}
			if got := keys(objs); !slices.Equal(got, tc.want) {
				t.Errorf("page size %d, List(%q) = %q, want %q", pageSize, tc.pattern, got, tc.want)
			}
			for _, o := range objs {
				if o.Version != etags[o.Key] || o.Version == "" || o.URL != b.URL(o.Key) || o.Size != int64(len("data of "+o.Key)) {
					t.Errorf("%s: %+v, want version %s", o.Key, o, etags[o.Key])
				}
			}
		}
		for _, p := range []string{"nothing", "usage/dt=2027-*"} {
			_, err := s.List(context.Background(), p, ".parquet")
			if err == nil || !strings.Contains(err.Error(), b.URL(p)) {
				t.Errorf("List(%q): %v, want an error naming %s", p, err, b.URL(p))
			}
		}
		if st := s.Stats(); pageSize == 2 && st.Requests < 9 {
			t.Errorf("page size 2: %d requests for 9 listings of up to 9 keys: pages not followed", st.Requests)
		}
	}
}

// ReadAt returns the object's bytes wherever it reads; a prefetch merges
// close ranges, cuts long ones into parts, and serves later reads without
// a request.
func TestReadAtAndPrefetch(t *testing.T) {
	b := objstoretest.NewBucket(t)
	data := make([]byte, 300_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	b.Put("blob", data)
	cfg := b.Config
	cfg.Gap, cfg.PartSize = 1000, 50_000
	s := open(t, b, cfg)
	objs, err := s.List(context.Background(), "blob", "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.NewReader(context.Background(), objs[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.BytesFetched != objstore.TailSize {
		t.Errorf("open fetched %d bytes, want the %d-byte tail", st.BytesFetched, objstore.TailSize)
	}
	check := func(off, n int) {
		t.Helper()
		p := make([]byte, n)
		got, err := r.ReadAt(p, int64(off))
		end := min(off+n, len(data))
		if got != end-off || !bytes.Equal(p[:got], data[off:end]) || (end < off+n) != (err != nil) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d bytes equal to the object's", n, off, got, err, end-off)
		}
	}
	for range 50 {
		check(rng.IntN(len(data)), 1+rng.IntN(100_000))
	}
	check(len(data)-100, 200) // across the end: short read and io.EOF

	before := s.Stats()
	ranges := []objstore.Range{{Off: 1000, Len: 1000}, {Off: 2500, Len: 500}, {Off: 10_000, Len: 120_000}, {Off: 290_000, Len: 5000}}
	if err := r.Prefetch(ranges); err != nil {
		t.Fatal(err)
	}
	after := s.Stats()
	// [1000,3000) merged across a 500-byte hole; [10000,130000) in three
	// parts; [290000,295000) is in the tail, held since the open.
	if n := after.Requests - before.Requests; n != 4 {
		t.Errorf("prefetch sent %d requests, want 4", n)
	}
	if w := after.BytesWasted - before.BytesWasted; w != 500 {
		t.Errorf("prefetch wasted %d bytes, want the 500-byte hole", w)
	}
	for _, rg := range ranges {
		check(int(rg.Off), int(rg.Len))
	}
	if n := s.Stats().Requests - after.Requests; n != 0 {
		t.Errorf("reads inside the prefetched ranges sent %d requests, want 0", n)
	}

	// Held bytes still wanted stay, and are not fetched again; the rest
	// is let go.
	before = s.Stats()
	if err := r.Prefetch([]objstore.Range{{Off: 1500, Len: 100}, {Off: 50_000, Len: 10_000}, {Off: 200_000, Len: 100}}); err != nil {
		t.Fatal(err)
	}
	if d := s.Stats().BytesFetched - before.BytesFetched; d != 100 {
		t.Errorf("second prefetch fetched %d bytes, want only the 100 not held", d)
	}
	check(1500, 100)
	check(50_000, 10_000)
	check(200_000, 100)
	before = s.Stats()
	check(120_000, 10) // let go with its part
	if n := s.Stats().Requests - before.Requests; n != 1 {
		t.Errorf("a read of bytes let go sent %d requests, want 1", n)
	}

	// Ranges on both sides of held bytes are not merged across them: the
	// held bytes would be fetched again.
	if err := r.Prefetch([]objstore.Range{{Off: 150_000, Len: 500}}); err != nil {
		t.Fatal(err)
	}
	before = s.Stats()
	if err := r.Prefetch([]objstore.Range{{Off: 149_500, Len: 500}, {Off: 150_000, Len: 500}, {Off: 150_500, Len: 500}}); err != nil {
		t.Fatal(err)
	}
	if d, n := s.Stats().BytesFetched-before.BytesFetched, s.Stats().Requests-before.Requests; d != 1000 || n != 2 {
		t.Errorf("around held bytes: fetched %d bytes in %d requests, want 1000 in 2", d, n)
	}
	check(149_500, 1500)
}

// A read pinned to the listed ETag fails, naming the object, once the
// object is rewritten: never a mix of two versions.
func TestReadChangedObject(t *testing.T) {
	b := objstoretest.NewBucket(t)
	b.Put("f.parquet", bytes.Repeat([]byte("a"), 100_000))
	s := open(t, b, b.Config)
	objs, err := s.List(context.Background(), "f.parquet", "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.NewReader(context.Background(), objs[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	b.Put("f.parquet", bytes.Repeat([]byte("b"), 100_000))
	_, err = r.ReadAt(make([]byte, 10), 0)
	if !errors.Is(err, objstore.ErrChanged) || !strings.Contains(err.Error(), b.URL("f.parquet")) {
		t.Fatalf("read after a rewrite: %v, want ErrChanged naming the object", err)
	}
	if _, err := s.NewReader(context.Background(), objs[0], 0); !errors.Is(err, objstore.ErrChanged) {
		t.Errorf("open after a rewrite: %v, want ErrChanged", err)
	}
}

// Throttling, expired tokens, dropped connections and bodies cut mid-range
// are retried: the listing and the bytes come out whole.
func TestFaultsAreRetried(t *testing.T) {
	b := objstoretest.NewBucket(t)
	data := make([]byte, 2_000_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.Put("big.parquet", data)
	for i := range 9 {
		b.Put("p/"+string(rune('a'+i))+".parquet", []byte{byte(i)})
	}
	px := faultnettest.Start(t, faultnet.Config{Target: strings.TrimPrefix(b.Config.Endpoint, "http://"), Seed: 3, DropRate: 0.1, CutRate: 0.05})
	faults := &objstoretest.Faults{SlowDownEvery: 3, TooManyEvery: 5, ExpiredEvery: 7}
	cfg := b.Config
	cfg.Endpoint, cfg.HTTPClient, cfg.ListPageSize, cfg.PartSize, cfg.Attempts = px.URL, &http.Client{Transport: faults}, 2, 100_000, 30
	s := open(t, b, cfg)
	objs, err := s.List(context.Background(), "p", ".parquet")
	if err != nil || len(objs) != 9 {
		t.Fatalf("list under faults: %d objects, %v; want 9", len(objs), err)
	}
	if got, err := readWhole(t, s, "big.parquet"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read under faults: %v, equal %v", err, bytes.Equal(got, data))
	}
	st, ps := s.Stats(), px.Stats()
	t.Logf("store %+v; proxy %+v; slow-downs %d, 429s %d, expired %d", st, ps, faults.SlowDowns.Load(), faults.TooMany.Load(), faults.Expired.Load())
	if faults.SlowDowns.Load() == 0 || faults.TooMany.Load() == 0 || faults.Expired.Load() == 0 || ps.Dropped == 0 || ps.Cut == 0 {
		t.Errorf("a fault did not bite: proxy %+v, faults %d/%d/%d", ps, faults.SlowDowns.Load(), faults.TooMany.Load(), faults.Expired.Load())
	}
	if st.Retries == 0 || st.BytesFetched < int64(len(data)) {
		t.Errorf("stats %+v: want retries and every byte fetched", st)
	}
}

// A request that gets no answer is abandoned at its deadline and tried
// again; the caller's own deadline still ends the read.
func TestStalledRequestsAreRetried(t *testing.T) {
	b := objstoretest.NewBucket(t)
	data := bytes.Repeat([]byte("0123456789"), 30_000)
	b.Put("f.parquet", data)
	faults := &objstoretest.Faults{StallEvery: 2}
	cfg := b.Config
	// A deadline far above a real answer's time on a busy machine, and
	// tries to spare: only the stalls use it up.
	cfg.HTTPClient, cfg.RequestTimeout, cfg.PartSize, cfg.Attempts = &http.Client{Transport: faults}, 500*time.Millisecond, 50_000, 30
	s := open(t, b, cfg)
	if got, err := readWhole(t, s, "f.parquet"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with stalls: %v, equal %v", err, bytes.Equal(got, data))
	}
	objs, err := s.List(context.Background(), "f.parquet", "")
	if err != nil {
		t.Fatal(err)
	}
	if faults.Stalls.Load() == 0 || s.Stats().Retries < faults.Stalls.Load() {
		t.Errorf("stalls %d, retries %d: want every stall retried", faults.Stalls.Load(), s.Stats().Retries)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.NewReader(ctx, objs[0], 0); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a cancelled context: %v, want context.Canceled", err)
	}
}

// What retrying cannot fix fails at once or after the attempts, with an
// error naming the object.
func TestFailuresNameTheObject(t *testing.T) {
	b := objstoretest.NewBucket(t)
	b.Put("f.parquet", []byte("0123456789"))
	cfg := b.Config
	cfg.HTTPClient, cfg.Attempts = &http.Client{Transport: &objstoretest.Faults{SlowDownEvery: 1}}, 4
	s := open(t, b, cfg)
	_, err := s.NewReader(context.Background(), objstore.Object{URL: b.URL("f.parquet"), Key: "f.parquet", Size: 10}, 0)
	if err == nil || !strings.Contains(err.Error(), b.URL("f.parquet")) || !strings.Contains(err.Error(), "after 4 tries") {
		t.Errorf("always throttled: %v, want an error naming the object after 4 tries", err)
	}
	if st := s.Stats(); st.Requests != 4 {
		t.Errorf("%d requests, want 4", st.Requests)
	}

	s = open(t, b, b.Config)
	_, err = s.NewReader(context.Background(), objstore.Object{URL: b.URL("gone.parquet"), Key: "gone.parquet", Size: 10}, 0)
	if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), b.URL("gone.parquet")) {
		t.Errorf("missing object: %v, want not found naming it", err)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Errorf("missing object: %d requests, want 1 (not retried)", st.Requests)
	}
}

// Credentials the server refuses fail the first request, unretried, with
// what the job needs.
func TestWrongCredentials(t *testing.T) {
	b := objstoretest.NewBucket(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	s := open(t, b, b.Config)
	_, err := s.List(context.Background(), "p", ".parquet")
	if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "list and get") {
		t.Errorf("wrong secret: %v, want access denied and the permissions needed", err)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Errorf("wrong secret: %d requests, want 1", st.Requests)
	}
}

// replayFirstPage is a server whose listings ignore the continuation
// token: every page is the first one again.
type replayFirstPage struct {
	next  http.RoundTripper
	first []byte
}

func (r *replayFirstPage) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || !req.URL.Query().Has("list-type") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if r.first == nil {
		r.first = body
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(r.first)), int64(len(r.first))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// A listing whose pages do not move on fails instead of giving a short
// (or endless) list.
func TestBrokenPaginationFails(t *testing.T) {
	b := objstoretest.NewBucket(t)
	for i := range 5 {
		b.Put("p/"+string(rune('a'+i))+".parquet", []byte{byte(i)})
	}
	cfg := b.Config
	cfg.ListPageSize, cfg.HTTPClient = 2, &http.Client{Transport: &replayFirstPage{next: http.DefaultTransport}}
	s := open(t, b, cfg)
	_, err := s.List(context.Background(), "p", ".parquet")
	if err == nil || !strings.Contains(err.Error(), "refusing an incomplete list") {
		t.Fatalf("pages that repeat: %v, want the listing refused", err)
	}
}

// readWhole lists the one object named key, and reads it whole (prefetched
// in parts, then read back): the bytes, or the read's error.
func readWhole(t *testing.T, s *objstore.Store, key string) ([]byte, error) {
	t.Helper()
	objs, err := s.List(context.Background(), key, "")
	if err != nil || len(objs) != 1 {
		t.Fatalf("list %s: %d objects, %v; want 1", key, len(objs), err)
	}
	r, err := s.NewReader(context.Background(), objs[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Prefetch([]objstore.Range{{Off: 0, Len: objs[0].Size}}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, objs[0].Size)
	_, err = r.ReadAt(got, 0)
	return got, err
}
