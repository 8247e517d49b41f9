package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// parquetReader streams the rows of a list of Parquet files, row group by
// row group, decoding batchRows rows at a time column by column and only
// the columns the layout needs. Memory is bounded by one row group's
// pages per column plus one batch, whatever the file size.
type parquetReader struct {
	spec  Spec
	marks []FileMark // the files to read, in read order, with their footer row counts
	// orderIdx and done are fixed at open, for Cover: the index of a file
	// in marks, and the files a resumed checkpoint covered whole.
	orderIdx map[string]int
	done     []FileMark
	// outside holds the files whose every row group lies outside the
	// window by its statistics, with their row group counts: never
	// opened again to be read.
	outside map[string]int
	stats   Stats
	read    atomic.Int64 // bytes read from local files
	files   *files
	err     error // sticky fatal error

	fi   int          // index of the current file in marks
	file *parquetFile // nil between files
	lay  *layout
	rg   int // current row group; -1 before the first of a file

	cols               []*colReader // open column readers of the row group; nil between groups
	id, et, cust, sub  *colReader
	ts, propJSON       *colReader
	propKey, propValue *colReader
	propTyped          []*colReader
	rgRows             int64 // rows in the current row group
	// hits and misses count, over the run, the row groups whose
	// shard key column was fetched alone first and that held rows of the
	// shard, or none; see noneInShard.
	hits, misses int
	next         int64 // row of the row group the next batch starts at

	b       *batch
	inShard shardMemo
	bi      int   // next row of the batch to yield
	base    int64 // row of the row group that b's row 0 is
	a       arena
}

func openParquet(ctx context.Context, spec Spec) (_ *parquetReader, err error) {
	r := &parquetReader{spec: spec, rg: -1, b: newBatch(), inShard: shardMemo{shard: spec.Shard}}
	if r.files, err = newFiles(ctx, spec, &r.read); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer func() {
		if err != nil {
			r.files.close()
		}
	}()
	files, err := r.files.list(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	// Read every footer now: the row count is the completeness guard, and
	// a corrupt file or a missing column fails before any event is sent.
	// Footers are read footerReaders at a time (a request each in an
	// object store); the error reported is the first file's in path order.
	marks := make([]FileMark, len(files))
	outside := make([]int, len(files))
	errs := make([]error, len(files))
	var g errgroup.Group
	g.SetLimit(footerReaders)
	for i, path := range files {
		g.Go(func() error {
			marks[i], outside[i], errs[i] = r.footer(path)
			return nil
		})
	}
	g.Wait()
	r.outside = map[string]int{}
	for i := range files {
		if errs[i] != nil {
			return nil, errs[i]
		}
		r.stats.Declared += marks[i].Rows
		if outside[i] > 0 {
			r.outside[files[i]] = outside[i]
		}
	}
	if err := r.plan(marks); err != nil {
		return nil, err
	}
	return r, nil
}

// footerReaders bounds the footers read at once when a reader opens.
const footerReaders = 8

// footer opens path, checks that it has the columns the spec needs, and
// returns its mark; outside is its row group count when the statistics
// of every row group put it outside the window, else 0.
func (r *parquetReader) footer(path string) (_ FileMark, outside int, err error) {
	f, err := r.files.open(path)
	if err != nil {
		return FileMark{}, 0, fmt.Errorf("source: %w", err)
	}
	defer f.close()
	lay, err := resolveLayout(f.pq.Root(), r.spec)
	if err != nil {
		return FileMark{}, 0, fmt.Errorf("source: parquet %s: %w", path, err)
	}
	m, footerLen, err := footerMark(path, f.ra, f.size, f.pq.NumRows())
	if err != nil {
		return FileMark{}, 0, fmt.Errorf("source: parquet %s: %w", path, err)
	}
	m.Version = r.files.version(path)
	r.files.noteTail(path, f, footerLen)
	groups := f.pq.RowGroups()
	for _, g := range groups {
		if !outsideWindow(r.spec.Window, lay, g) {
			return m, 0, nil
		}
	}
	return m, len(groups), nil
}

// plan sets the files to read, in order. Without a resume coverage that
// is every file in path order. With one, the files it covers whole are
// checked and left out, the file its position is in comes first (to finish
// it), then every other file in path order, late ones included.
func (r *parquetReader) plan(marks []FileMark) error {
	cov, after := r.spec.Resume, r.spec.After
	if cov == nil {
		r.setOrder(marks)
		return nil
	}
	byPath := make(map[string]int, len(marks))
	for i, m := range marks {
		byPath[m.Path] = i
	}
	changed := func(m FileMark, how string) error {
		return fmt.Errorf("source: parquet %s: %w: %s", m.Path, ErrSourceChanged, how)
	}
	done := make([]bool, len(marks))
	for _, was := range cov.Files {
		i, ok := byPath[was.Path]
		if !ok {
			return changed(was, "the file is gone")
		}
		if d := marks[i].differs(was); d != "" {
			return changed(was, d)
		}
		done[i] = true
		r.stats.SkippedResume += was.Rows
	}
	pi, ok := byPath[after.File]
	switch {
	case !ok:
		return changed(FileMark{Path: after.File}, "the file the checkpoint stopped in is gone")
	case done[pi] || cov.Partial == nil || cov.Partial.Path != after.File:
		return fmt.Errorf("source: checkpoint at %s does not describe its file", after)
	}
	if d := marks[pi].differs(*cov.Partial); d != "" {
		return changed(*cov.Partial, d)
	}
	r.done = slices.Clone(cov.Files)
	order := []FileMark{marks[pi]}
	for i, m := range marks {
		if done[i] || i == pi {
			continue
		}
		if m.Path < after.File {
			r.stats.Late += m.Rows
		}
		order = append(order, m)
	}
	r.setOrder(order)
	return nil
}

func (r *parquetReader) setOrder(order []FileMark) {
	r.marks = order
	r.orderIdx = make(map[string]int, len(order))
	for i, m := range order {
		r.orderIdx[m.Path] = i
	}
}

// Cover implements Reader: the files covered whole are those of the
// resumed checkpoint and those read before pos's file in this run.
func (r *parquetReader) Cover(pos Position) Coverage {
	i, ok := r.orderIdx[pos.File]
	if !ok {
		return Coverage{}
	}
	files := make([]FileMark, 0, len(r.done)+i)
	files = append(append(files, r.done...), r.marks[:i]...)
	slices.SortFunc(files, func(a, b FileMark) int { return strings.Compare(a.Path, b.Path) })
	p := r.marks[i]
	return Coverage{Files: files, Partial: &p}
}

func (r *parquetReader) Stats() Stats {
	s := r.stats
	s.Through = s.Emitted + s.Invalid + s.SkippedWindow + s.SkippedShard + s.SkippedResume
	s.BytesRead = r.read.Load()
	if r.files.store != nil {
		st := r.files.store.Stats()
		s.BytesRead, s.Requests, s.Retries = st.BytesFetched, st.Requests, st.Retries
	}
	return s
}

func (r *parquetReader) Close() error {
	err := r.closeRowGroup()
	if r.file != nil {
		err = errors.Join(err, r.file.close())
		r.file = nil
	}
	err = errors.Join(err, r.files.close())
	if r.err == nil {
		r.err = errors.New("source: reader closed")
	}
	return err
}

// Next implements Reader.
func (r *parquetReader) Next(ctx context.Context) (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for {
		if r.bi < r.b.n {
			i := r.bi
			r.bi++
			rec, err, ok := r.yield(i)
			if ok {
				return rec, err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		if err := r.fill(); err != nil {
			if err != io.EOF {
				r.err = fmt.Errorf("source: %w", err)
				return Record{}, r.err
			}
			r.err = io.EOF
			return Record{}, io.EOF
		}
	}
}

// mask sets the batch's keep mask for the customers of its n rows; nil
// when every row is in the shard.
func (r *parquetReader) mask(n int) []bool {
	b := r.b
	if r.spec.Shard.IsZero() {
		b.keep = nil
		return nil
	}
	b.keep = b.keepBuf[:n]
	for i, c := range b.customerID[:n] {
		b.keep[i] = r.inShard.contains(c)
	}
	return b.keep
}

// yield filters and validates row i of the batch; ok is false when the row
// is skipped by shard or window.
func (r *parquetReader) yield(i int) (Record, error, bool) {
	b := r.b
	if b.keep != nil && !b.keep[i] {
		r.stats.SkippedShard++
		return Record{}, nil, false
	}
	ts := b.ts[i]
	if b.tsErr[i] == "" && !r.spec.Window.Contains(ts) {
		r.stats.SkippedWindow++
		return Record{}, nil, false
	}
	rw := row{
		id: b.id[i], eventType: b.eventType[i], customerID: b.customerID[i], subscriptionID: b.subscriptionID[i],
		ts: ts, tsErr: b.tsErr[i], tsRaw: b.tsRaw[i], props: b.props[i],
	}
	pos := Position{Kind: KindParquet, File: r.marks[r.fi].Path, RowGroup: r.rg, Row: r.base + int64(i)}
	if field, reason := rw.check(); field != "" {
		r.stats.Invalid++
		return Record{}, rw.recordError(pos, field, reason), true
	}
	r.stats.Emitted++
	return Record{Event: rw.event(), Pos: pos}, nil, true
}

// fill decodes the next batch, moving to the next row group or file as
// needed. It returns io.EOF after the last file.
func (r *parquetReader) fill() (err error) {
	for r.cols == nil || r.next >= r.rgRows {
		if err := r.nextRowGroup(); err != nil {
			return err
		}
	}
	n := int(min(int64(batchRows), r.rgRows-r.next))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet %s row group %d: corrupt data: %v", r.file.path, r.rg, p)
		}
		if err != nil && err != io.EOF {
			err = fmt.Errorf("parquet %s row group %d rows %d-%d: %w", r.file.path, r.rg, r.next, r.next+int64(n)-1, err)
		}
	}()
	b := r.b
	// The shard key first: the other columns are converted only for the
	// rows of this shard.
	if err := r.cust.internedTexts(n, b.customerID, nil); err != nil {
		return err
	}
	keep := r.mask(n)
	if err := r.id.texts(n, b.id, keep); err != nil {
		return err
	}
	if err := r.et.internedTexts(n, b.eventType, keep); err != nil {
		return err
	}
	if r.sub != nil {
		if err := r.sub.internedTexts(n, b.subscriptionID, keep); err != nil {
			return err
		}
	} else {
		clear(b.subscriptionID[:n])
	}
	if err := r.ts.timestamps(n, b); err != nil {
		return err
	}
	switch r.lay.props.mode {
	case propsJSON:
		err = r.propJSON.jsonProps(n, b, &r.a)
	case propsMap:
		err = mapProps(r.propKey, r.propValue, n, b, &r.a)
	case propsTyped:
		err = typedProps(r.propTyped, n, b, &r.a)
	default:
		clear(b.props[:n])
	}
	if err != nil {
		return err
	}
	b.n, r.bi, r.base = n, 0, r.next
	r.next += int64(n)
	return nil
}
