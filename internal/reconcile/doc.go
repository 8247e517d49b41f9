// Package reconcile checks that what the billing API counts and bills
// matches the source of usage events.
//
// [Verify] streams the source once (Parquet or PostgreSQL, through package
// source) and computes, per subscription and meter, the exact quantity the
// API should report for the window: Sum, Count, Max or UniqueCount, by the
// API's own rules (see value.go). It then fetches
// GET /v1/subscriptions/{id}/usage for every subscription in scope,
// concurrently through the shared, rate-limited client, and classifies each
// (subscription, meter) pair: [Match], [Under] (the API lost usage), [Over]
// (it counted some twice), [Missing] (the subscription or the meter is not
// in the API), [Unexpected] (the API has usage the source has no events
// for) or [Error] (the call failed after retries). Optionally it re-polls
// the mismatched subscriptions while ingestion settles, and heals Under
// pairs by re-sending their events. [Bill] then bills the subscriptions and
// checks every invoice line against the verified quantities, exactly.
//
// # Rules the totals follow
//
//   - An event id counts once, as the API deduplicates by id: the first
//     occurrence in source order counts.
//   - An event without subscription_id counts toward its customer's first
//     subscription by creation order [chosen]; the subscriptions come from
//     GET /v1/subscriptions, ties on created_at broken by id. An event
//     whose subscription belongs to another customer is refused by the
//     API and counted in Rows.Foreign, not in any total.
//   - A meter counts the events whose event_type is its SKU's
//     meter_event_type; an event lacking the property still counts for
//     Count but adds nothing to Sum, Max or UniqueCount.
//
// # Memory
//
// The totals take memory per (subscription, meter) pair, not per event:
// about 200 bytes a pair plus up to three sample event ids. Two things
// grow with the data itself, and cannot be avoided by an exact answer:
//
//   - Deduplicating ids needs to remember every id seen. The scan keeps a
//     128-bit fingerprint of each (not the id): about 34 bytes an id,
//     freed as soon as the scan ends (see idSet). Past half of
//     Config.MemoryLimit the scan spills (spill.go): events go to
//     partition files by id and each partition is counted with its own id
//     set, the same answer in bounded memory.
//   - UniqueCount keeps the distinct values of each pair until the scan
//     ends.
//
// The Result keeps every pair that is not a match (about 300 bytes each),
// so a run against an API that lost everything holds one Pair per
// (subscription, meter).
//
// # Sharding
//
// With a Shard, only the events of customers whose id falls in it
// (source.ShardOf) are read and only their subscriptions listed and
// compared; a subscription the shard's events name that belongs to
// another shard's customer makes those events foreign. Merge joins the
// shards into the unsharded result.
package reconcile
