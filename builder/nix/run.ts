import { spawn } from "node:child_process";

/** What a finished child process left behind. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last `stderrTailBytes` of stderr (the whole of it when shorter). */
  stderrTail: string;
  timedOut: boolean;
  aborted: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process (and its children) after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each complete stderr line as it arrives (Nix's progress and build logs). */
  onStderrLine?: (line: string) => void;
  /** How much of stderr to keep for error reports (default 64 KiB). */
  stderrTailBytes?: number;
  /** Time between SIGTERM and SIGKILL when stopping the child (default 3 s). */
  killGraceMs?: number;
  /** Refuse stdout beyond this many bytes (default 64 MiB): a runaway child cannot exhaust memory. */
  maxStdoutBytes?: number;
}

/**
 * Runs a program with arguments as data (no shell), draining stdout and stderr
 * concurrently so a chatty child never blocks on a full pipe. The child gets its own
 * process group, so a timeout or abort kills Nix together with the builders it forked.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const tailMax = opts.stderrTailBytes ?? 64 * 1024;
  const stdoutMax = opts.maxStdoutBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: null, stdout: "", stderrTail: "", timedOut: false, aborted: true });
      return;
    }
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    let tail = "";
    let partial = "";
    let timedOut = false;
    let aborted = false;

    // SIGTERM first: Nix then stops the builders it started (they run in process groups
    // of their own); SIGKILL after a grace period for anything that ignores it.
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const killGroup = () => {
      if (killTimer) return;
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), opts.killGraceMs ?? 3000);
    };
    const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), killGroup()), opts.timeoutMs) : undefined;
    const onAbort = () => ((aborted = true), killGroup());
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.on("data", (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > stdoutMax) {
        if (!overflow) ((overflow = true), killGroup());
        return;
      }
      out.push(b);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      tail = (tail + s).slice(-tailMax);
      if (!opts.onStderrLine) return;
      const lines = (partial + s).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onStderrLine(line);
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (partial && opts.onStderrLine) opts.onStderrLine(partial);
      if (overflow) {
        reject(new Error(`${cmd}: output exceeded ${stdoutMax} bytes`));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderrTail: tail, timedOut, aborted });
    });
  });
}
