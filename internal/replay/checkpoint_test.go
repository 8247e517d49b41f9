package replay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

// pgStore is a PostgresStore on a table of its own, dropped at cleanup.
func pgStore(t *testing.T) replay.PostgresStore {
	t.Helper()
	dsn := pgtest.DSN(t)
	table := fmt.Sprintf("ckpt_test_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
	})
	return replay.PostgresStore{DSN: dsn, Table: table, Name: "replay-test"}
}

func TestStores(t *testing.T) {
	stores := map[string]func(t *testing.T) replay.Store{
		"file": func(t *testing.T) replay.Store {
			return replay.FileStore{Path: filepath.Join(t.TempDir(), "replay.ckpt")}
		},
		"postgres": func(t *testing.T) replay.Store { return pgStore(t) },
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			ctx := context.Background()
			cp, err := s.Load(ctx)
			if err != nil || cp != nil {
				t.Fatalf("Load before any Save = %+v, %v; want nil, nil", cp, err)
			}
			for i, pos := range []source.Position{
				{Kind: source.KindParquet, File: "a.parquet", RowGroup: 1, Row: 42},
				{Kind: source.KindPostgres, Timestamp: time.Date(2026, 10, 3, 4, 5, 6, 7000, time.UTC), ID: "evt-9", Seq: 1},
			} {
				want := replay.Checkpoint{Fingerprint: "fp", Position: pos, Version: replay.CheckpointVersion, Coverage: source.Coverage{Rows: int64(100 * (i + 1))}, UpdatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
				if err := s.Save(ctx, want); err != nil {
					t.Fatalf("Save: %v", err)
				}
				got, err := s.Load(ctx)
				if err != nil || got == nil {
					t.Fatalf("Load after Save = %v, %v", got, err)
				}
				if got.Position.Compare(want.Position) != 0 || got.Coverage.Rows != want.Coverage.Rows || got.Version != want.Version || got.Fingerprint != want.Fingerprint || !got.UpdatedAt.Equal(want.UpdatedAt) {
					t.Errorf("Load = %+v, want %+v", *got, want)
				}
			}
			if fs, ok := s.(replay.FileStore); ok {
				left, _ := filepath.Glob(filepath.Join(filepath.Dir(fs.Path), ".*tmp"))
				if len(left) > 0 {
					t.Errorf("temporary files left behind: %v", left)
				}
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	base := source.Spec{Kind: source.KindPostgres, DSN: "postgres://u:secret@db/usage", Table: "usage_events"}
	same := base
	same.DSN = "postgres://u:rotated@db/usage"
	if replay.Fingerprint(base) != replay.Fingerprint(same) {
		t.Errorf("Fingerprint changed with the password only")
	}
	for name, mod := range map[string]func(*source.Spec){
		"table":  func(s *source.Spec) { s.Table = "other" },
		"shard":  func(s *source.Spec) { s.Shard = source.Shard{Index: 1, Count: 4} },
		"window": func(s *source.Spec) { s.Window = source.Window{From: time.Unix(0, 0)} },
		"map":    func(s *source.Spec) { s.Columns = source.ColumnMap{"id": "event_id"} },
	} {
		other := base
		mod(&other)
		if replay.Fingerprint(base) == replay.Fingerprint(other) {
			t.Errorf("Fingerprint ignores the %s", name)
		}
	}
}

// Resuming from a checkpoint kept in PostgreSQL, as an Indexed Job's pod
// without a volume does.
func TestResumeFromPostgresCheckpoint(t *testing.T) {
	store := pgStore(t)
	e := newEnv(t, sandboxConfig())
	spec := sampleSpec(t, source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC)})
	fp := replay.Fingerprint(spec)
	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = replay.Run(ctx, replay.Config{Source: src, Client: e.client, DeadLetter: e.dl, Concurrency: 4,
		Checkpoint: store, Fingerprint: fp, ProgressEvery: 5 * time.Millisecond,
		Progress: func(p replay.Progress) {
			if p.Sent > 3000 {
				cancel()
			}
		}})
	src.Close()
	if err != replay.ErrInterrupted {
		t.Fatalf("first run = %v, want ErrInterrupted", err)
	}
	cp, err := store.Load(context.Background())
	if err != nil || cp == nil || cp.Fingerprint != fp {
		t.Fatalf("checkpoint in PostgreSQL = %+v, %v", cp, err)
	}
	spec.After, spec.Resume = cp.Position, &cp.Coverage
	st := e.run(t, spec, replay.Config{Checkpoint: store, Fingerprint: fp, Resumed: cp})
	// Rows before the position count as skipped whether or not they fall
	// in the window: exactly the rows the checkpoint covers.
	if st.Source.SkippedResume != cp.Coverage.Rows || cp.Coverage.Rows == 0 {
		t.Errorf("resumed run skipped %d rows, want the checkpoint's %d", st.Source.SkippedResume, cp.Coverage.Rows)
	}
	full := sampleSpec(t, spec.Window)
	sameTotals(t, expected(t, full, e.data), observed(t, e.client, e.data))
}
