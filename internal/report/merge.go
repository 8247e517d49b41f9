package report

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/billharness/billharness/internal/reconcile"
)

// MergedPairs returns a Report.Pairs that merges the discrepancies.jsonl
// of the report directories dirs, each sorted in report order, into one
// sorted stream: a k-way merge that holds one row per directory, however
// many rows the shards wrote. A file out of order, or a pair found in two
// directories, is an error naming the file and row: the shards of one run
// compare disjoint subscriptions.
func MergedPairs(dirs []string) func(yield func(*reconcile.Pair) error) error {
	return func(yield func(*reconcile.Pair) error) error {
		h := make(pairHeap, 0, len(dirs))
		defer func() {
			for _, s := range h {
				s.f.Close()
			}
		}()
		for _, d := range dirs {
			s, err := openRows(filepath.Join(d, JSONLFile))
			if err != nil {
				return err
			}
			if ok, err := s.next(); err != nil || !ok {
				s.f.Close()
				if err != nil {
					return err
				}
				continue
			}
			h = append(h, s)
		}
		heap.Init(&h)
		var prev *reconcile.Pair
		var prevPath string
		for len(h) > 0 {
			s := h[0]
			p := s.pair
			if prev != nil && reconcile.ComparePairs(*prev, p) == 0 {
				return fmt.Errorf("read report %s: row %d: subscription %s meter %s also in %s: merge the shards of one run",
					s.path, s.line, p.SubscriptionID, p.Meter, prevPath)
			}
			if err := yield(&p); err != nil {
				return err
			}
			prev, prevPath = &p, s.path
			ok, err := s.next()
			if err != nil {
				return err
			}
			if ok {
				heap.Fix(&h, 0)
			} else {
				s.f.Close()
				heap.Pop(&h)
			}
		}
		return nil
	}
}

// rowStream reads one discrepancies.jsonl a row at a time.
type rowStream struct {
	path string
	f    *os.File
	dec  *json.Decoder
	line int
	pair reconcile.Pair
}

func openRows(path string) (*rowStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	dec.DisallowUnknownFields()
	return &rowStream{path: path, f: f, dec: dec}, nil
}

// next reads the next row, checking the file's order; false at the end.
func (s *rowStream) next() (bool, error) {
	var row Row
	err := s.dec.Decode(&row)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	s.line++
	if err != nil {
		return false, fmt.Errorf("read report %s: row %d: %w", s.path, s.line, err)
	}
	p := pairOf(row)
	if s.line > 1 && reconcile.ComparePairs(s.pair, p) >= 0 {
		return false, fmt.Errorf("read report %s: row %d: out of order after subscription %s meter %s (reports are written sorted: was the file edited?)",
			s.path, s.line, s.pair.SubscriptionID, s.pair.Meter)
	}
	s.pair = p
	return true, nil
}

// pairHeap orders streams by their current row.
type pairHeap []*rowStream

func (h pairHeap) Len() int           { return len(h) }
func (h pairHeap) Less(i, j int) bool { return reconcile.ComparePairs(h[i].pair, h[j].pair) < 0 }
func (h pairHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)        { *h = append(*h, x.(*rowStream)) }
func (h *pairHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
