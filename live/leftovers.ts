/**
 * What a harness killed with SIGKILL leaves behind, and how the next one removes it.
 *
 * Its servers and clients die with it (process.ts starts them with a parent-death signal), but
 * some things outlive it: a PostgreSQL backend stopped by a pause (the postmaster's children carry
 * no parent-death SIGKILL, and a stopped process acts on no other signal), a process started in
 * the instant before its parent-death signal was set, the network namespaces and the temporary
 * directories. So every harness keeps a record in TMPDIR, lockstep-owner-<pid>-<start>.jsonl: one
 * JSON line for itself (pid and start time), then one for each process it starts, each namespace
 * and each directory, appended as they come. A clean exit removes the record with the rest; the
 * local provider's start reads the records of harnesses that are gone and removes what they name.
 *
 * A recorded process is killed only while it is still the one recorded (the same start time in
 * /proc/PID/stat), so a reused pid is left alone. TMPDIR is usually /tmp, where anyone may write,
 * and the harness often runs as root: a record is read only if it is a regular file of this user,
 * and a directory is removed only if it is a lockstep-* directory directly in TMPDIR.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

type Entry =
  | { readonly owner: { readonly pid: number; readonly start: string } }
  | { readonly process: { readonly pid: number; readonly start: string; readonly name: string } }
  | { readonly namespace: string }
  | { readonly directory: string };

const RECORD = /^lockstep-owner-\d+-\d+\.jsonl$/;
const NETNS_DIR = '/var/run/netns';
/** How long processes killed here may take to be gone before the next cluster starts. */
const KILL_WAIT_MS = 5000;

let recordFile: string | null = null;

/**
 * The start time of `pid` (clock ticks after boot, field 22 of /proc/PID/stat): with the pid, it
 * names one process for good. Null if there is no such process, or it is a zombie.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count fields from after it (field 3 on).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

function append(entry: Entry): void {
  if (recordFile === null) {
    const start = processStart(process.pid) ?? '0';
    const file = join(tmpdir(), `lockstep-owner-${process.pid}-${start}.jsonl`);
    // 'wx': never write into a file someone else put there.
    writeFileSync(file, `${JSON.stringify({ owner: { pid: process.pid, start } })}\n`, { flag: 'wx', mode: 0o600 });
    recordFile = file;
  }
  appendFileSync(recordFile, `${JSON.stringify(entry)}\n`);
}

/** Record a process this harness started, so that the next harness kills it if this one cannot. */
export function recordProcess(pid: number, name: string): void {
  const start = processStart(pid);
  if (start !== null) append({ process: { pid, start, name } });
}

export function recordNamespace(name: string): void {
  append({ namespace: name });
}

export function recordDirectory(path: string): void {
  append({ directory: path });
}

/** This harness has removed everything it made: its record goes too. */
export function removeRecord(): void {
  if (recordFile === null) return;
  rmSync(recordFile, { force: true });
  recordFile = null;
}

/** What removeLeftovers removed, for one line of output. */
export interface Removed {
  readonly owners: number[];
  processes: number;
  namespaces: number;
  directories: number;
}

/**
 * Remove what harnesses that are gone left behind, by their records in TMPDIR: kill their
 * processes (those still the recorded ones), delete their namespaces and directories, then the
 * records. Records of harnesses still running are left alone. Null when there was nothing.
 */
export async function removeLeftovers(): Promise<Removed | null> {
  const removed: Removed = { owners: [], processes: 0, namespaces: 0, directories: 0 };
  for (const name of readdirSync(tmpdir())) {
    const file = join(tmpdir(), name);
    if (!RECORD.test(name) || file === recordFile) continue;
    const entries = readRecord(file);
    if (entries === null) continue;
    const owner = entries.find((e): e is Extract<Entry, { owner: unknown }> => 'owner' in e)?.owner;
    if (owner === undefined || processStart(owner.pid) === owner.start) continue;
    await removeRecorded(entries, removed);
    rmSync(file, { force: true });
    removed.owners.push(owner.pid);
  }
  return removed.owners.length === 0 ? null : removed;
}

/** The entries of a record this user wrote; null for anything else (another user's file, a link). */
function readRecord(file: string): Entry[] | null {
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.uid !== process.getuid?.()) return null;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Entry];
        } catch {
          return []; // a line cut short by the SIGKILL
        }
      });
  } catch {
    return null;
  }
}

async function removeRecorded(entries: readonly Entry[], removed: Removed): Promise<void> {
  const victims = entries.flatMap((e) =>
    'process' in e && processStart(e.process.pid) === e.process.start ? [e.process] : [],
  );
  for (const victim of victims) {
    try {
      // SIGKILL acts on a stopped process too: a server paused by a fault needs nothing else.
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await untilGone(victims);
  removed.processes += victims.length;
  for (const entry of entries) {
    if ('namespace' in entry && deleteNamespace(entry.namespace)) removed.namespaces++;
    if ('directory' in entry && removeDirectory(entry.directory)) removed.directories++;
  }
}

async function untilGone(victims: readonly { pid: number; start: string }[]): Promise<void> {
  for (let waitedMs = 0; waitedMs < KILL_WAIT_MS; waitedMs += 20) {
    if (victims.every((v) => processStart(v.pid) !== v.start)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function deleteNamespace(name: string): boolean {
  if (!name.startsWith('lockstep-') || name.includes('/') || !existsSync(join(NETNS_DIR, name))) return false;
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // deleted meanwhile (netns.ts deletes those of dead harnesses too)
  }
}

function removeDirectory(path: string): boolean {
  if (dirname(path) !== tmpdir() || !basename(path).startsWith('lockstep-') || !existsSync(path)) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}

/** One line saying what was removed. */
export function describeRemoved(removed: Removed): string {
  return `removed what ${removed.owners.length === 1 ? 'a killed harness' : `${removed.owners.length} killed harnesses`} (pid ${removed.owners.join(', ')}) left: ${removed.processes} process(es), ${removed.namespaces} network namespace(s), ${removed.directories} directory(ies)`;
}
