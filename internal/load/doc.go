// Package load drives the billing API's event ingestion at a set rate and
// measures what it takes and how fast it answers, in numbers an engineer
// can trust.
//
// # Models
//
// The open model (Config.Schedule set) sends requests on a schedule that
// does not depend on the answers: a constant rate, or stages with linear
// ramps ([ParseStages]). A pacer computes request n's intended send time
// from the start of the run and the schedule, never from when request n-1
// went out, so a slow answer cannot slow the pacer down. The pacer hands
// each tick to a free worker; in-flight requests are capped
// (Config.MaxInFlight), and a tick that finds every worker busy is counted
// as dropped and records nothing else: it is never queued where nobody sees
// it. The closed model (no Schedule) runs Config.Workers workers that each
// send the next request as soon as the previous one is answered: the
// maximum throughput, with latency that is service time by construction.
//
// # Latency
//
// Every request is recorded twice in HDR histograms, per status class:
// corrected latency, from its intended send time to its answer (what a
// user arriving on schedule would wait, corrected for coordinated
// omission), and service time, from when it actually started to its
// answer. The two differ by any wait between the schedule and the wire:
// a late pacer, or a request waiting for one of Config.Connections when
// there are fewer connections than in-flight requests.
//
// # Bounded memory
//
// Histograms have a fixed size, recording goes to a few mutex-guarded
// shards (not one lock per run), the per-second series keeps at most
// MaxPoints points by merging neighbours, and error kinds are capped, so
// an hour-long run uses the memory of a one-minute run.
//
// # Results
//
// [Run] returns a [Result]: counters, histograms and series that merge
// exactly across the shards of a distributed run ([Merge]); [Result.Summary]
// computes the headline numbers that [Threshold]s gate on. Setup and
// Verify create the customers a synthetic run sends events for and check
// afterwards that the API counted every accepted event.
package load
