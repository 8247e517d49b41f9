#!/usr/bin/env bash
# Usage: scripts/faults.sh [EVENTS]
#
# Replays EVENTS usage events (default 200000) into a sandbox through every
# network fault at once (the sandbox's 500s, 429s and resets after the
# event was stored; the faultnet proxy's refused connections, delays and
# responses cut part-way), over both client transports, and checks that
# nothing was lost or counted twice: internal/replay's
# TestReplayAllFaultsExact, without the race detector, which is too slow at
# this scale (go test -race ./... runs the same tests at 5,000 events).
# Two more rounds under the same faults: a replay interrupted half way and
# resumed after a late file appeared before the checkpoint's position
# (TestReplayLateFileResumeUnderFaults), and copies of ids with different
# payloads side by side (TestReplayConflictingDuplicatesUnderFaults); both
# must end exact. make test runs 200,000 events, make chaos 2,000,000.
set -euo pipefail
cd "$(dirname "$0")/.."

events=${1:-200000}
timeout=30m
if [ "$events" -gt 500000 ]; then
  timeout=4h
fi
BILLHARNESS_FAULT_EVENTS=$events exec go test -count=1 -timeout "$timeout" -v \
  -run '^(TestReplayAllFaultsExact|TestReplayLateFileResumeUnderFaults|TestReplayConflictingDuplicatesUnderFaults)$' ./internal/replay
