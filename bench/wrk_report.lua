-- wrk script for bench/run.py: optional method, body and headers from the environment, and a JSON summary
-- (median, p95, requests per second, errors) on the last line of the output.
local method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
if method then wrk.method = method end
if body then wrk.body = body end
if content_type then wrk.headers["Content-Type"] = content_type end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1000000
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH {"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "rps": %.1f, "requests": %d, "errors": %d, "http_errors": %d}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / seconds, summary.requests, errors, summary.errors.status))
end
