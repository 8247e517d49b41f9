package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"

	"github.com/billharness/billharness/internal/objstore"
)

// findFiles lists the Parquet files of a path: the file itself, the
// matches of a glob (a directory among them is walked), or every file
// ending in .parquet under a directory, recursively (hive-style
// partitions such as dt=2026-10-01/ included; names starting with "." or
// "_", such as _SUCCESS or _temporary/, are left out). The list is sorted
// in byte order, the order of Parquet positions.
func findFiles(path string) ([]string, error) {
	var roots []string
	if strings.ContainsAny(path, "*?[") {
		m, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("parquet %s: %w", path, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("parquet %s: no file matches", path)
		}
		roots = m
	} else {
		roots = []string{path}
	}
	var files []string
	for _, root := range roots {
		st, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("parquet %w", err)
		}
		if !st.IsDir() {
			files = append(files, root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && strings.HasSuffix(name, ".parquet") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("parquet %s: %w", root, err)
		}
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("parquet %s: no .parquet file found", path)
	}
	return files, nil
}

// parquetFile is one open file, local or in an object store.
type parquetFile struct {
	path   string
	size   int64
	ra     io.ReaderAt
	closer io.Closer        // the local file; nil for an object
	obj    *objstore.Reader // the object; nil for a local file
	pq     *parquet.File
}

// files lists and opens the Parquet files of a spec: local ones, or the
// objects of an s3:// or gs:// URL.
type files struct {
	ctx     context.Context
	store   *objstore.Store            // nil for local files
	objects map[string]objstore.Object // by URL, as listed
	read    *atomic.Int64              // bytes read from local files
	closed  bool
	// tails holds, for objects whose footer was read once, the length of
	// the footer with its length and magic: opened again to be read, the
	// object's tail is fetched to the byte, not TailSize.
	mu    sync.Mutex
	tails map[string]int64
}

// noteTail records the length of an open object's tail: its footer of
// footerLen bytes, the length and the magic.
func (fs *files) noteTail(path string, f *parquetFile, footerLen int64) {
	if f.obj == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.tails == nil {
		fs.tails = map[string]int64{}
	}
	fs.tails[path] = footerLen + 8
}

func newFiles(ctx context.Context, spec Spec, read *atomic.Int64) (*files, error) {
	fs := &files{ctx: ctx, read: read}
	if objstore.IsURL(spec.Path) {
		s, err := objstore.Open(ctx, spec.Objects, spec.Path)
		if err != nil {
			return nil, fmt.Errorf("parquet %w", err)
		}
		fs.store = s
	}
	return fs, nil
}

// list returns the files of path in byte order: findFiles for a local
// path, the objects the pattern names for a URL.
func (fs *files) list(path string) ([]string, error) {
	if fs.store == nil {
		return findFiles(path)
	}
	_, _, key, err := objstore.SplitURL(path)
	if err != nil {
		return nil, fmt.Errorf("parquet %w", err)
	}
	objs, err := fs.store.List(fs.ctx, key, ".parquet")
	if err != nil {
		return nil, fmt.Errorf("parquet %w", err)
	}
	fs.objects = make(map[string]objstore.Object, len(objs))
	urls := make([]string, len(objs))
	for i, o := range objs {
		fs.objects[o.URL] = o
		urls[i] = o.URL
	}
	return urls, nil
}

// version is the listed version of an object; "" for a local file.
func (fs *files) version(path string) string { return fs.objects[path].Version }

func (fs *files) close() error {
	if fs.store == nil || fs.closed {
		return nil
	}
	fs.closed = true
	return fs.store.Close()
}

// open opens a file and reads its footer. A truncated or corrupt file is
// an error naming it; parquet-go panics on some corrupt footers, and the
// panic becomes that error too.
func (fs *files) open(path string) (_ *parquetFile, err error) {
	pf := &parquetFile{path: path}
	opts := []parquet.FileOption{parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.ReadBufferSize(256 << 10)}
	if fs.store != nil {
		obj, ok := fs.objects[path]
		if !ok {
			return nil, fmt.Errorf("parquet %s: not in the listing", path)
		}
		fs.mu.Lock()
		tail := fs.tails[path]
		fs.mu.Unlock()
		if pf.obj, err = fs.store.NewReader(fs.ctx, obj, tail); err != nil {
			return nil, fmt.Errorf("parquet %w", err)
		}
		pf.ra, pf.size = pf.obj, obj.Size
		// The header magic would cost a request of its own; the footer's
		// is checked.
		opts = append(opts, parquet.SkipMagicBytes(true))
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("parquet %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("parquet %w", err)
		}
		pf.ra, pf.closer, pf.size = countingReaderAt{f, fs.read}, f, st.Size()
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet %s: corrupt file: %v", path, p)
		}
		if err != nil {
			pf.close()
		}
	}()
	if pf.pq, err = parquet.OpenFile(pf.ra, pf.size, opts...); err != nil {
		return nil, fmt.Errorf("parquet %s: not a readable Parquet file: %w", path, err)
	}
	return pf, nil
}

func (f *parquetFile) close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// prefetch fetches, for an object, the column chunks of row group rg
// that the leaves read, in as few requests as the store's gap allows; a
// local file needs nothing.
func (f *parquetFile) prefetch(rg int, leaves []*leaf) error {
	if f.obj == nil {
		return nil
	}
	cols := f.pq.Metadata().RowGroups[rg].Columns
	ranges := make([]objstore.Range, 0, len(leaves))
	for _, l := range leaves {
		if l == nil || l.index >= len(cols) {
			continue
		}
		md := cols[l.index].MetaData
		off := md.DataPageOffset
		if d := md.DictionaryPageOffset; d > 0 && d < off {
			off = d
		}
		ranges = append(ranges, objstore.Range{Off: off, Len: md.TotalCompressedSize})
	}
	if err := f.obj.Prefetch(ranges); err != nil {
		return fmt.Errorf("parquet %s row group %d: %w", f.path, rg, err)
	}
	return nil
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n *atomic.Int64
}

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}
