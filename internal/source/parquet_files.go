package source

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
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

// parquetFile is one open file.
type parquetFile struct {
	path string
	size int64
	os   *os.File
	pq   *parquet.File
}

// openParquetFile opens a file and reads its footer. A truncated or
// corrupt file is an error naming it; parquet-go panics on some corrupt
// footers, and the panic becomes that error too.
func openParquetFile(path string, read *atomic.Int64) (_ *parquetFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("parquet %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("parquet %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet %s: corrupt file: %v", path, p)
		}
	}()
	pf, err := parquet.OpenFile(countingReaderAt{f, read}, st.Size(),
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(256<<10),
	)
	if err != nil {
		return nil, fmt.Errorf("parquet %s: not a readable Parquet file: %w", path, err)
	}
	return &parquetFile{path: path, size: st.Size(), os: f, pq: pf}, nil
}

func (f *parquetFile) close() error { return f.os.Close() }

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
