/**
 * The edge-fuzz generator (test/support/fuzz-requests.ts) pointed at another registry: how
 * many hostile requests get an answer that is not valid HTTP, a 5xx, or an error that is not
 * an OCI error body. The edge itself is held to zero by test/integration/edge-fuzz.test.ts.
 */
import { generateRequests, type FuzzContext } from "../support/fuzz-requests.ts";
import { exchange, judgeAnswer } from "../support/raw-http.ts";

export interface FuzzTally {
  requests: number;
  serverErrors: number;
  /** 5xx, invalid or missing answers, and errors without an OCI error body. */
  bad: number;
}

export async function fuzzTally(port: number, ctx: FuzzContext, count = 1500, seed = 0x6e697870): Promise<FuzzTally> {
  const requests = generateRequests(seed, count, ctx);
  const tally: FuzzTally = { requests: requests.length, serverErrors: 0, bad: 0 };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      try {
        const res = await exchange(port, req.bytes, { head: req.method === "HEAD" });
        if (res.status >= 500) tally.serverErrors++;
        if (judgeAnswer(res, req.method === "HEAD")) tally.bad++;
      } catch {
        tally.bad++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return tally;
}
