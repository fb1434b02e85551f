-- wrk script: page through one analysis' results with a bearer token; print the summary as one JSON line.
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH")
local pages = tonumber(os.getenv("BENCH_PAGES"))
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", path .. "?per_page=50&page=" .. ((counter % pages) + 1),
                    {["Authorization"] = "Bearer " .. token})
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
