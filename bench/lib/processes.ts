// Child processes for benchmarks: servers run in their own processes so the load generator
// does not share their event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly rssPeakMb: () => number;
  /** CPU time (user + system, ms) the process has used so far, from /proc. */
  readonly cpuMs: () => number;
  readonly stop: () => Promise<void>;
}

export interface StartOptions {
  /** The child's working directory (default: this process's). */
  readonly cwd?: string;
  /** How long the child may take to print its ready line (default 30 s). */
  readonly readyTimeoutMs?: number;
}

/** Starts `node <script>` and resolves once a line matches `ready`, capturing the URL. */
export async function startChild(script: string, env: Record<string, string>, ready: RegExp, args: string[] = [], options: StartOptions = {}): Promise<Child> {
  const proc = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL'); // never leave a half-started server behind to skew later runs
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`${script} did not become ready:\n${output}`)), options.readyTimeoutMs ?? 30_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = ready.exec(output);
      if (m?.[1] && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  // Keep collecting output, and say so if a server dies mid-benchmark.
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) console.error(`${script} exited unexpectedly (code ${code}, signal ${signal}):\n${output.slice(-4000)}`);
  });
  // Peak RSS of the heaviest single process: the server itself, or its busiest cluster worker.
  let peak = 0;
  const sample = setInterval(() => {
    peak = Math.max(peak, rssMb(proc.pid), ...childPids(proc.pid).map(rssMb));
  }, 200);
  return {
    proc,
    url,
    rssPeakMb: () => Math.max(peak, rssMb(proc.pid), ...childPids(proc.pid).map(rssMb)),
    cpuMs: () => cpuMs(proc.pid),
    async stop() {
      stopping = true;
      clearInterval(sample);
      if (proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
  };
}

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

const CLOCK_TICKS_PER_SEC = 100; // Linux USER_HZ

/**
 * A process's or thread's name and CPU time (user + system, ms) from a /proc `stat` file
 * (`/proc/<pid>/stat`, `/proc/<pid>/task/<tid>/stat`); undefined once it has ended.
 */
export function readProcStat(path: string): { name: string; cpuMs: number } | undefined {
  try {
    // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC };
  } catch {
    return undefined;
  }
}

function cpuMs(pid: number | undefined): number {
  return pid ? (readProcStat(`/proc/${pid}/stat`)?.cpuMs ?? 0) : 0;
}

function childPids(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
