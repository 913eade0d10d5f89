import { describe, expect, it } from "vitest";
import { parseWrk } from "../bench/load.ts";

// wrk 4.1's summary with --latency, as printed on Debian 12.
const OUT = `Running 4s test @ http://127.0.0.1:41705/v2/hello/manifests/latest
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.21ms  410.55us  12.03ms   91.12%
    Req/Sec    41.51k     3.02k   44.90k    80.00%
  Latency Distribution
     50%    1.13ms
     75%    1.30ms
     90%    1.55ms
     99%  850.00us
  165243 requests in 4.00s, 152.43MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  41306.18
Transfer/sec:     38.10MB
`;

describe("parseWrk", () => {
  it("reads throughput, p99 in ms, requests, and errors of both kinds", () => {
    expect(parseWrk(OUT)).toEqual({ rps: 41306.18, p99Ms: 0.85, errors: 10, requests: 165243 });
  });

  it("reads p99 in seconds and a clean run without error lines", () => {
    const clean = OUT.replace("  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\n", "").replace("850.00us", "1.50s");
    expect(parseWrk(clean)).toMatchObject({ p99Ms: 1500, errors: 0 });
  });
});
