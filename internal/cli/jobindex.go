package cli

import "github.com/billharness/billharness/internal/source"

// IndexEnv is the variable Kubernetes sets in each pod of an Indexed Job
// (completionMode: Indexed) to the pod's completion index, 0 to
// completions-1.
const IndexEnv = "JOB_COMPLETION_INDEX"

// ShardFromEnv returns the shard of a pod in a Kubernetes Indexed Job: the
// index from IndexEnv, the count from countVar (RECONCILE_SHARDS, say),
// both read with getenv. Kubernetes sets the index but not the count, so
// the manifest sets countVar to the Job's completions. With neither set it
// returns the zero Shard (the whole input).
//
// One set without the other is a usage error naming both: a pod that
// quietly took the whole input, or shard 0, would do another pod's work
// twice, or only part of its own.
func ShardFromEnv(getenv func(string) string, countVar string) (source.Shard, error) {
	idx, n := getenv(IndexEnv), getenv(countVar)
	switch {
	case idx == "" && n == "":
		return source.Shard{}, nil
	case n == "":
		return source.Shard{}, Usagef("%s=%s is set but %s is not: set %s to the Job's completions, or give -shard i/N", IndexEnv, idx, countVar, countVar)
	case idx == "":
		return source.Shard{}, Usagef("%s=%s is set but %s is not: outside an Indexed Job, give -shard i/N instead", countVar, n, IndexEnv)
	}
	s, err := source.ParseShard(idx + "/" + n)
	if err != nil {
		return source.Shard{}, Usagef("%s=%s, %s=%s: %v", IndexEnv, idx, countVar, n, err)
	}
	return s, nil
}
