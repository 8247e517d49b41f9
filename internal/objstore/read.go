package objstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"

	"cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"
)

// TailSize is how much of an object's end a [Reader] fetches when it
// opens: a Parquet footer, its length and magic in one request for most
// files.
const TailSize = 64 << 10

// Range is a byte range of an object: Len bytes from Off.
type Range struct {
	Off, Len int64
}

// Reader reads one object through ranged GETs, as an io.ReaderAt. It
// keeps the object's tail, and the ranges of the last Prefetch, in
// memory; a read outside them is fetched on its own. It is not safe for
// concurrent use.
type Reader struct {
	s     *Store
	obj   Object
	ctx   context.Context
	parts []part // sorted by off, not overlapping: the tail and the prefetched ranges
	tail  part
}

type part struct {
	off int64
	b   []byte
}

// NewReader opens obj and fetches its last tail bytes (TailSize when tail
// is 0). Reads use ctx: cancelling it fails them.
func (s *Store) NewReader(ctx context.Context, obj Object, tail int64) (*Reader, error) {
	r := &Reader{s: s, obj: obj, ctx: ctx}
	if tail <= 0 {
		tail = TailSize
	}
	n := min(obj.Size, tail)
	r.tail = part{off: obj.Size - n, b: make([]byte, n)}
	if err := s.fetch(ctx, obj, r.tail.off, r.tail.b); err != nil {
		return nil, err
	}
	r.parts = []part{r.tail}
	return r, nil
}

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", r.obj.URL, off)
	}
	if off >= r.obj.Size {
		return 0, io.EOF
	}
	want := p
	if end := off + int64(len(p)); end > r.obj.Size {
		want = p[:r.obj.Size-off]
	}
	n := 0
	for n < len(want) {
		at := off + int64(n)
		i := sort.Search(len(r.parts), func(i int) bool { return r.parts[i].end() > at })
		if i < len(r.parts) && r.parts[i].off <= at {
			n += copy(want[n:], r.parts[i].b[at-r.parts[i].off:])
			continue
		}
		// Not held: fetch up to the next held part.
		end := int64(len(want))
		if i < len(r.parts) {
			end = min(end, r.parts[i].off-off)
		}
		if err := r.s.fetch(r.ctx, r.obj, at, want[n:end]); err != nil {
			return n, err
		}
		n = int(end)
	}
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Prefetch makes ranges held in memory and lets go of held bytes no range
// wants (the tail stays). Bytes already held are not fetched again; of the
// rest, ranges closer than the store's Gap are merged into one request,
// requests are cut to its PartSize, and at most MaxInFlight are in
// flight. A Parquet reader prefetches the column chunks of the row group
// it is about to decode.
func (r *Reader) Prefetch(ranges []Range) error {
	held := r.parts[:len(r.parts)-1] // the tail is last
	var keep []part
	for _, p := range held {
		if overlaps(p, ranges) {
			keep = append(keep, p)
		}
	}
	have := append(slices.Clone(keep), r.tail)
	parts, wasted := r.s.plan(missing(ranges, have), have, r.obj.Size)
	g, ctx := errgroup.WithContext(r.ctx)
	for i := range parts {
		g.Go(func() error {
			select {
			case r.s.sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer func() { <-r.s.sem }()
			return r.s.fetch(ctx, r.obj, parts[i].off, parts[i].b)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	r.s.wasted.Add(wasted)
	// New parts cover only bytes not held and are never merged across
	// held ones: they overlap neither the kept parts nor the tail.
	next := append(keep, parts...)
	slices.SortFunc(next, func(a, b part) int { return cmp.Compare(a.off, b.off) })
	r.parts = append(next, r.tail)
	return nil
}

func (p part) end() int64 { return p.off + int64(len(p.b)) }

// overlaps reports whether p shares a byte with any range.
func overlaps(p part, ranges []Range) bool {
	for _, rg := range ranges {
		if rg.Off < p.end() && p.off < rg.Off+rg.Len {
			return true
		}
	}
	return false
}

// heldWithin reports whether a part of held shares a byte with [off, end).
func heldWithin(off, end int64, held []part) bool {
	for _, p := range held {
		if p.off < end && off < p.end() {
			return true
		}
	}
	return false
}

// missing returns the pieces of ranges that no part of held (sorted by
// offset, not overlapping) covers.
func missing(ranges []Range, held []part) []Range {
	var out []Range
	for _, rg := range ranges {
		off, end := rg.Off, rg.Off+rg.Len
		for _, p := range held {
			if p.end() <= off || p.off >= end {
				continue
			}
			if p.off > off {
				out = append(out, Range{off, p.off - off})
			}
			off = max(off, p.end())
		}
		if off < end {
			out = append(out, Range{off, end - off})
		}
	}
	return out
}

// plan merges ranges (clipped to size) whose gap is at most Gap and holds
// none of the bytes already held, then cuts the merged ranges into parts
// of at most PartSize, each with its buffer; wasted is the gap bytes the
// merges fetch.
func (s *Store) plan(ranges []Range, held []part, size int64) (parts []part, wasted int64) {
	rs := make([]Range, 0, len(ranges))
	for _, rg := range ranges {
		end := min(rg.Off+rg.Len, size)
		if rg.Off < 0 || end <= rg.Off {
			continue
		}
		rs = append(rs, Range{rg.Off, end - rg.Off})
	}
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.Off, b.Off) })
	var merged []Range
	for _, rg := range rs {
		if k := len(merged) - 1; k >= 0 {
			last := &merged[k]
			end := last.Off + last.Len
			if rg.Off <= end+s.cfg.Gap && !heldWithin(end, rg.Off, held) {
				if rg.Off > end {
					wasted += rg.Off - end
				}
				last.Len = max(end, rg.Off+rg.Len) - last.Off
				continue
			}
		}
		merged = append(merged, rg)
	}
	for _, m := range merged {
		for off := m.Off; off < m.Off+m.Len; off += s.cfg.PartSize {
			n := min(s.cfg.PartSize, m.Off+m.Len-off)
			parts = append(parts, part{off: off, b: make([]byte, n)})
		}
	}
	return parts, wasted
}

// fetch reads len(b) bytes at off of obj into b, pinned to obj's
// version, retrying as [Store.do] does. A retry after a body cut short
// asks only for the bytes still missing.
func (s *Store) fetch(ctx context.Context, obj Object, off int64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	got := 0
	opts := &blob.ReaderOptions{BeforeRead: s.pin(obj.Version)}
	what := fmt.Sprintf("read %s bytes %d-%d", obj.URL, off, off+int64(len(b))-1)
	return s.do(ctx, what, int64(len(b)), func(ctx context.Context) error {
		rr, err := s.b.NewRangeReader(ctx, obj.Key, off+int64(got), int64(len(b)-got), opts)
		if err != nil {
			return err
		}
		defer rr.Close()
		n, err := io.ReadFull(rr, b[got:])
		got += n
		s.fetched.Add(int64(n))
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the object is shorter than listed
		}
		return err
	})
}

// pin makes a read fail unless the object is still at version: S3's
// If-Match on the ETag, GCS's generation.
func (s *Store) pin(version string) func(func(any) bool) error {
	if version == "" {
		return nil
	}
	return func(as func(any) bool) error {
		var in *s3.GetObjectInput
		if as(&in) {
			in.IfMatch = &version
			return nil
		}
		var oh **storage.ObjectHandle
		if as(&oh) {
			gen, err := strconv.ParseInt(version, 10, 64)
			if err != nil {
				return fmt.Errorf("generation %q: %w", version, err)
			}
			*oh = (*oh).Generation(gen)
		}
		return nil
	}
}
