-- wrk script: POST /v1/events with a fresh event id (also its Idempotency-Key)
-- on every request, so the server takes its store path every time.
-- Env: BENCH_TOKEN (admin or customer token), BENCH_CUSTOMER, BENCH_SUBSCRIPTION,
-- BENCH_FIXED=1 to send one fixed id (the duplicate path after the first).
-- BENCH_EVENTS_FILE=events.jsonl (testdata/gen -formats jsonl) sends those
-- bodies instead, in order and cycling, each with a fresh id of a UUID's
-- shape: the same events a replay of that dataset sends.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
  customer = os.getenv("BENCH_CUSTOMER") or ""
  subscription = os.getenv("BENCH_SUBSCRIPTION") or ""
  fixed = os.getenv("BENCH_FIXED") == "1"
  run = os.getenv("BENCH_RUN") or tostring(os.time())
  runhash = 0
  for c in run:gmatch(".") do runhash = (runhash * 31 + c:byte()) % 0x7fffffff end
  rests = {}
  local file = os.getenv("BENCH_EVENTS_FILE")
  if file and file ~= "" then
    for line in io.lines(file) do
      local rest = line:match('^{"id":"[^"]*"(.*)$')
      if not rest then error("BENCH_EVENTS_FILE " .. file .. ": a line does not start with {\"id\":") end
      rests[#rests + 1] = rest
    end
    if #rests == 0 then error("BENCH_EVENTS_FILE " .. file .. ": no events") end
  end
end

request = function()
  counter = counter + 1
  local id
  if fixed then
    id = "wrk-fixed"
  else
    id = string.format("wrk-%s-%d-%d", run, tid, counter)
  end
  local body
  if #rests > 0 then
    id = string.format("%08x-%04x-7000-8000-%012x", runhash, tid, counter)
    body = '{"id":"' .. id .. '"' .. rests[(counter - 1) % #rests + 1]
  else
    body = string.format(
      '{"id":"%s","event_type":"llm.completion","customer_id":"%s","subscription_id":"%s",' ..
      '"timestamp":"2026-10-15T12:00:00Z","properties":{"model":"gpt-4-turbo","input_tokens":512,"output_tokens":256}}',
      id, customer, subscription)
  end
  -- Like billharness's client, the event id is the Idempotency-Key. A
  -- headers table given to wrk.format replaces wrk.headers, so copy them.
  local headers = {["Idempotency-Key"] = id}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  return wrk.format(nil, "/v1/events", headers, body)
end

-- summary.errors.status counts answers with a status above 399, so a run
-- that measured errors instead of stored events shows it.
function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d errors=%d status_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
