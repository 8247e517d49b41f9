package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/billharness/billharness/internal/duration"
)

// background writes checkpoints and progress until done closes.
func (r *run) background(done <-chan struct{}, start time.Time) {
	cp := time.NewTicker(r.cfg.CheckpointEvery)
	defer cp.Stop()
	pr := time.NewTicker(r.cfg.ProgressEvery)
	defer pr.Stop()
	wd := time.NewTicker(max(min(r.cfg.StallTimeout/4, r.cfg.FailFast/4, time.Second), time.Millisecond))
	defer wd.Stop()
	last, lastAt := int64(0), start
	var lastNext uint64
	movedAt := start
	for {
		select {
		case <-done:
			return
		case now := <-wd.C:
			if trip := r.brk.tick(); trip != nil {
				r.stop(trip)
				return
			}
			pos, next, waiting := r.wm.head()
			if next != lastNext || !waiting {
				lastNext, movedAt = next, now
				continue
			}
			if now.Sub(movedAt) >= r.cfg.StallTimeout {
				r.stop(fmt.Errorf("replay stuck: the record at %s has not finished in %s (-stall-timeout) and holds back the checkpoint; the run stops so that it can be looked at",
					pos, r.cfg.StallTimeout))
				return
			}
		case <-cp.C:
			if err := r.checkpoint(context.Background()); err != nil {
				r.cfg.Logger.Error("checkpoint not written", "store", r.cfg.Checkpoint.String(), "err", err)
			}
		case now := <-pr.C:
			if r.cfg.Progress == nil {
				continue
			}
			st := r.c.stats()
			st.Elapsed = duration.Duration(now.Sub(start))
			fin := finished(st)
			rate := float64(fin-last) / now.Sub(lastAt).Seconds()
			last, lastAt = fin, now
			r.cfg.Progress(r.progress(st, rate, false))
		}
	}
}

func finished(st Stats) int64 {
	return st.Accepted + st.Duplicate + st.Rejected + st.Failed + st.Invalid + st.TooOld + st.Conflicting
}

func (r *run) progress(st Stats, rate float64, final bool) Progress {
	p := Progress{Stats: st, Sent: st.Accepted + st.Duplicate + st.Rejected + st.Failed, Rate: rate, Final: final,
		Consumed: r.consumed.Load(), Declared: r.declared.Load()}
	if r.cfg.Client != nil && !final {
		p.PausedUntil = r.cfg.Client.PausedUntil()
	}
	if final && st.Elapsed > 0 {
		p.Rate = float64(finished(st)) / time.Duration(st.Elapsed).Seconds()
	}
	r.etaMu.Lock()
	p.ETA = r.eta.Update(p.Consumed, p.Declared, time.Duration(st.Elapsed))
	r.etaMu.Unlock()
	if r.cfg.Client != nil {
		if e := r.cfg.Client.LastError(); e != nil {
			p.LastError = e.Error()
		}
	}
	return p
}

// checkpoint saves the watermark, after making every dead letter below it
// durable.
func (r *run) checkpoint(ctx context.Context) error {
	if r.cfg.Checkpoint == nil || r.cfg.DryRun {
		return nil
	}
	r.cpMu.Lock()
	defer r.cpMu.Unlock()
	pos, thru, _ := r.wm.position()
	if pos.IsZero() {
		return nil
	}
	if err := r.cfg.DeadLetter.Sync(); err != nil {
		return err
	}
	cov := r.cfg.Source.Cover(pos)
	cov.Rows = thru
	cp := Checkpoint{Version: CheckpointVersion, Fingerprint: r.cfg.Fingerprint, Position: pos, Coverage: cov, UpdatedAt: r.cfg.Now().UTC()}
	if r.lastCP != nil && r.lastCP.Position.Compare(cp.Position) == 0 && r.lastCP.Coverage.Rows == cp.Coverage.Rows {
		return nil
	}
	if err := r.cfg.Checkpoint.Save(ctx, cp); err != nil {
		return err
	}
	r.lastCP = &cp
	return nil
}

// checkResume checks a resumed run's accounting: the rows the reader
// skipped as done are exactly those the checkpoint covered (none when the
// source was read again for late rows).
func checkResume(st Stats, resumed *Checkpoint) error {
	if resumed == nil {
		return nil
	}
	want := resumed.Coverage.Rows
	if st.Source.Reread {
		want = 0
	}
	if st.Source.SkippedResume != want {
		return fmt.Errorf("replay: accounting: %d rows skipped as done before the checkpoint, which covers %d", st.Source.SkippedResume, want)
	}
	return nil
}
