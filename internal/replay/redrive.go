package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/source"
)

// A re-drive sends again the records of a dead-letter file whose delivery
// failed (source.RetryableLetter), through the usual pipeline, with their
// new letters going to AgainPath(path). FinishRedrive then replaces the
// file with what is still undelivered: the letters not re-sent, in their
// order, then those of the records that failed again. The old file is kept
// beside it, so the audit trail is never lost. A re-drive stopped before
// FinishRedrive changes nothing: re-driving again is safe, as the API
// deduplicates the records that did get through.

// AgainPath is where a re-drive of path writes the letters of the records
// that fail again.
func AgainPath(path string) string { return path + ".redrive" }

// FinishRedrive replaces the dead-letter file at path, as described above,
// and returns the letters it now holds by kind and where the old file went.
func FinishRedrive(path string, now time.Time) (remaining map[string]int64, archive string, err error) {
	again := AgainPath(path)
	remaining = map[string]int64{}
	archive = path + ".redriven-" + now.UTC().Format("20060102T150405.000000000Z")
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		keep := func(file string, all bool) error {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			for sc.Scan() {
				k := source.LetterKind(sc.Bytes())
				// Lines that were re-sent, or were not letters (the re-drive
				// wrote those again as invalid), are not kept from the old file.
				if !all && (k == "" || k == source.RetryableLetter) {
					continue
				}
				remaining[k]++
				bw.Write(sc.Bytes())
				bw.WriteByte('\n')
			}
			return sc.Err()
		}
		if err := keep(path, false); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if err := keep(again, true); err != nil {
			return fmt.Errorf("read %s: %w", again, err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		// Keep the old file under another name before the new one replaces it.
		return os.Link(path, archive)
	})
	if err != nil {
		return nil, "", fmt.Errorf("re-drive %s: %w", path, err)
	}
	if err := os.Remove(again); err != nil && !errors.Is(err, os.ErrNotExist) {
		return remaining, archive, fmt.Errorf("re-drive %s: %w", path, err)
	}
	return remaining, archive, nil
}
