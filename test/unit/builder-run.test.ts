import { describe, expect, it } from "vitest";
import { run } from "../../builder/nix/run.ts";

describe("run (child processes for Nix and git)", () => {
  it("passes arguments as data, never through a shell", async () => {
    const r = await run("printf", ["%s", "$(echo pwned); `id`"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("$(echo pwned); `id`");
  });

  it("does not deadlock on megabytes of stderr and keeps only its tail", async () => {
    const r = await run("node", ["-e", "for (let i = 0; i < 20000; i++) process.stderr.write('line ' + i + ' ' + 'x'.repeat(200) + '\\n'); console.log('done')"], {
      stderrTailBytes: 4096,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("done");
    expect(r.stderrTail.length).toBeLessThanOrEqual(4096);
    expect(r.stderrTail).toContain("line 19999");
  });

  it("streams stderr line by line", async () => {
    const lines: string[] = [];
    await run("node", ["-e", "process.stderr.write('a\\nb\\nc')"], { onStderrLine: (l) => lines.push(l) });
    expect(lines).toEqual(["a", "b", "c"]);
  });

  it("kills the whole process group on timeout", async () => {
    const started = Date.now();
    // The grandchild would keep the pipe open for 30 s if only the direct child were killed.
    const r = await run("sh", ["-c", "sleep 30 & sleep 30"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops on abort", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await run("sleep", ["30"], { signal: ac.signal });
    expect(r.aborted).toBe(true);
  });

  it("refuses runaway output", async () => {
    await expect(run("head", ["-c", "2000000", "/dev/zero"], { maxStdoutBytes: 1000 })).rejects.toThrow(/exceeded/);
  });
});
