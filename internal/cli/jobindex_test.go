package cli

import (
	"cmp"
	"errors"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/source"
)

func TestShardFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		countVar string // default RECONCILE_SHARDS
		env      map[string]string
		want     source.Shard
		wantErr  []string
	}{
		{name: "neither", want: source.Shard{}},
		{name: "both", env: map[string]string{IndexEnv: "2", "RECONCILE_SHARDS": "3"}, want: source.Shard{Index: 2, Count: 3}},
		{name: "first of one", env: map[string]string{IndexEnv: "0", "RECONCILE_SHARDS": "1"}, want: source.Shard{Index: 0, Count: 1}},
		{name: "index without count", env: map[string]string{IndexEnv: "1"}, wantErr: []string{"JOB_COMPLETION_INDEX=1", "RECONCILE_SHARDS is not"}},
		{name: "count without index", env: map[string]string{"RECONCILE_SHARDS": "4"}, wantErr: []string{"RECONCILE_SHARDS=4", "JOB_COMPLETION_INDEX is not"}},
		{name: "index out of range", env: map[string]string{IndexEnv: "3", "RECONCILE_SHARDS": "3"}, wantErr: []string{"JOB_COMPLETION_INDEX=3, RECONCILE_SHARDS=3", "below the count"}},
		{name: "bad count", env: map[string]string{IndexEnv: "0", "RECONCILE_SHARDS": "three"}, wantErr: []string{"RECONCILE_SHARDS=three", "not a positive whole number"}},
		{name: "bad index", env: map[string]string{IndexEnv: "-1", "RECONCILE_SHARDS": "3"}, wantErr: []string{"JOB_COMPLETION_INDEX=-1", "not a whole number"}},
		{name: "another count variable", countVar: "LOADGEN_SHARDS", env: map[string]string{IndexEnv: "1", "RECONCILE_SHARDS": "3"}, wantErr: []string{"LOADGEN_SHARDS is not"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			countVar := cmp.Or(tt.countVar, "RECONCILE_SHARDS")
			got, err := ShardFromEnv(func(k string) string { return tt.env[k] }, countVar)
			if len(tt.wantErr) > 0 {
				if err == nil || !errors.Is(err, ErrUsage) {
					t.Fatalf("ShardFromEnv(%v, %s) = %v, %v, want a usage error", tt.env, countVar, got, err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("ShardFromEnv(%v, %s) error = %q, want it to contain %q", tt.env, countVar, err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ShardFromEnv(%v, %s) = %v, %v, want %v", tt.env, countVar, got, err, tt.want)
			}
		})
	}
}
