package source

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// nextRowGroup opens the next row group to read, skipping files and row
// groups before the resume position and row groups whose timestamp
// statistics lie outside the window. It returns io.EOF after the last.
func (r *parquetReader) nextRowGroup() (err error) {
	if err := r.closeRowGroup(); err != nil {
		return err
	}
	after := r.spec.After
	for {
		if r.file == nil {
			if r.rg >= 0 {
				r.fi++
			}
			if r.fi >= len(r.marks) {
				return io.EOF
			}
			path := r.marks[r.fi].Path
			if !after.IsZero() && r.spec.Resume == nil && path < after.File {
				r.stats.SkippedResume += r.marks[r.fi].Rows
				r.rg = 0 // marks the file as passed
				continue
			}
			if n := r.outside[path]; n > 0 && path != after.File {
				rows := r.marks[r.fi].Rows
				r.stats.SkippedWindow += rows
				r.stats.Pruned += rows
				r.stats.RowGroupsSkipped += int64(n)
				r.rg = 0
				continue
			}
			if r.file, err = r.files.open(path); err != nil {
				return err
			}
			if r.lay, err = resolveLayout(r.file.pq.Root(), r.spec); err != nil {
				return fmt.Errorf("parquet %s: %w", path, err)
			}
			r.rg = -1
		}
		r.rg++
		groups := r.file.pq.RowGroups()
		if r.rg >= len(groups) {
			err := r.file.close()
			r.file = nil
			if err != nil {
				return err
			}
			continue
		}
		g := groups[r.rg]
		rows := g.NumRows()
		var start int64
		if !after.IsZero() && r.file.path == after.File {
			switch {
			case r.rg < after.RowGroup:
				r.stats.SkippedResume += rows
				continue
			case r.rg == after.RowGroup:
				start = min(after.Row+1, rows)
				r.stats.SkippedResume += start
			}
		}
		if start >= rows {
			continue
		}
		if outsideWindow(r.spec.Window, r.lay, g) {
			r.stats.SkippedWindow += rows - start
			r.stats.Pruned += rows - start
			r.stats.RowGroupsSkipped++
			continue
		}
		if skip, err := r.noneInShard(g, rows, start); err != nil || skip {
			if err != nil {
				return err
			}
			r.stats.SkippedShard += rows - start
			continue
		}
		return r.openRowGroup(g, rows, start)
	}
}

// outsideWindow reports whether g's timestamp statistics prove that no row
// is in the window. Only integer timestamps are compared: the min and max
// of RFC 3339 text are not the earliest and latest instants once offsets
// differ.
func outsideWindow(w Window, lay *layout, g parquet.RowGroup) bool {
	l := lay.timestamp
	if w.IsZero() || (l.conv != convTimestamp && l.conv != convEpoch) {
		return false
	}
	chunk, ok := g.ColumnChunks()[l.index].(interface {
		Bounds() (min, max parquet.Value, ok bool)
	})
	if !ok {
		return false
	}
	lo, hi, ok := chunk.Bounds()
	if !ok || lo.IsNull() || hi.IsNull() {
		return false
	}
	var tlo, thi = fromEpoch(lo.Int64()), fromEpoch(hi.Int64())
	if l.conv == convTimestamp {
		tlo, thi = fromTicks(lo.Int64(), l.unit), fromTicks(hi.Int64(), l.unit)
	}
	return !w.overlaps(tlo, thi)
}

// prescanLimit is how many row groups noneInShard lets hold rows of the
// shard, with none that did not, before it stops looking for the rest of
// the run.
const prescanLimit = 4

// noneInShard reports, for a sharded read of an object, whether row group
// g holds no row of the shard from row start on, fetching and decoding its
// shard key column alone: the other columns are then never fetched. Data
// kept by customer (partitions or files per customer, or sorted) skips
// most row groups this way. Data that is not costs one more request per
// row group (two when the column sits between others), so once
// prescanLimit row groups held rows of the shard and none did not, it
// stops looking; the fetched column stays held for the read, not fetched
// again. Local files are not pre-scanned: their bytes
// cost no request.
func (r *parquetReader) noneInShard(g parquet.RowGroup, rows, start int64) (none bool, err error) {
	if r.file.obj == nil || r.spec.Shard.IsZero() || (r.hits >= prescanLimit && r.misses == 0) {
		return false, nil
	}
	if err := r.file.prefetch(r.rg, []*leaf{r.lay.customerID}); err != nil {
		return false, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet %s row group %d: corrupt data: %v", r.file.path, r.rg, p)
		}
	}()
	c := newColReader(r.lay.customerID, g.ColumnChunks()[r.lay.customerID.index])
	defer c.close()
	if start > 0 {
		if err := c.vr.SeekToRow(start); err != nil {
			return false, fmt.Errorf("parquet %s row group %d: seek to row %d: %w", r.file.path, r.rg, start, err)
		}
	}
	ids := r.b.customerID
	for at := start; at < rows; {
		n := int(min(int64(batchRows), rows-at))
		if err := c.internedTexts(n, ids, nil); err != nil {
			return false, fmt.Errorf("parquet %s row group %d: %w", r.file.path, r.rg, err)
		}
		for _, id := range ids[:n] {
			if r.inShard.contains(id) {
				r.hits++
				return false, nil
			}
		}
		at += int64(n)
	}
	r.misses++
	return true, nil
}

func (r *parquetReader) openRowGroup(g parquet.RowGroup, rows, start int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet %s row group %d: corrupt data: %v", r.file.path, r.rg, p)
		}
	}()
	if err := r.file.prefetch(r.rg, r.lay.leaves()); err != nil {
		return err
	}
	chunks := g.ColumnChunks()
	open := func(l *leaf) *colReader {
		c := newColReader(l, chunks[l.index])
		r.cols = append(r.cols, c)
		return c
	}
	r.cols = r.cols[:0]
	lay := r.lay
	r.id, r.et, r.cust, r.ts = open(lay.id), open(lay.eventType), open(lay.customerID), open(lay.timestamp)
	r.sub, r.propJSON, r.propKey, r.propValue, r.propTyped = nil, nil, nil, nil, nil
	if lay.subscriptionID != nil {
		r.sub = open(lay.subscriptionID)
	}
	switch lay.props.mode {
	case propsJSON:
		r.propJSON = open(lay.props.json)
	case propsMap:
		r.propKey, r.propValue = open(lay.props.key), open(lay.props.value)
	case propsTyped:
		for _, l := range lay.props.typed {
			r.propTyped = append(r.propTyped, open(l))
		}
	}
	if start > 0 {
		for _, c := range r.cols {
			if err := c.vr.SeekToRow(start); err != nil {
				return fmt.Errorf("parquet %s row group %d: seek to row %d: %w", r.file.path, r.rg, start, err)
			}
		}
	}
	r.rgRows, r.next = rows, start
	return nil
}

func (r *parquetReader) closeRowGroup() error {
	var errs []error
	for _, c := range r.cols {
		errs = append(errs, c.close())
	}
	r.cols = nil
	r.b.n, r.bi = 0, 0
	return errors.Join(errs...)
}
