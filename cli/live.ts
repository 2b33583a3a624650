/**
 * `lockstep live`: the scenarios, unchanged, against real servers behind Toxiproxy. One cluster
 * serves the whole invocation; runs go one at a time, so that a server fault of one run never
 * touches another. Writes the same run directory as `lockstep run`, with "mode": "live".
 */
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { Cluster } from '../live/cluster.ts';
import { openCluster, type ProviderOptions } from '../live/providers.ts';
import { runLive, type LiveRunOutput } from '../live/run.ts';
import { touchesOnlyClients } from '../faults/live.ts';
import { liveSystems } from '../live/systems/index.ts';
import type { NamedSubject } from '../subjects/index.ts';
import { keepFailedLogsIn, removeOnExit } from '../live/process.ts';
import { redactUrl } from '../runner/redact.ts';
import { writeReport } from '../reports/report.ts';
import { RunDirWriter, type TimedRun } from '../runner/run-dir.ts';
import { printVerdicts } from './summary.ts';
import { writeCiFiles, type CiFileOptions } from './ci-files.ts';
import { UsageError } from '../runner/errors.ts';
import { referencesOf } from '../runner/results.ts';
import { shardLabel, shareOf, type Shard, type ShardRecord } from '../runner/shard.ts';
import { planInputs } from './run.ts';

export interface LiveCommand {
  readonly scenarios: readonly { file: string; scenario: Scenario }[];
  readonly systems: readonly SystemId[] | null;
  readonly subjects: readonly NamedSubject[];
  readonly fencing: 'off' | 'on' | 'both';
  readonly seed: number;
  readonly outDir: string;
  readonly provider: ProviderOptions;
  readonly version: string;
  readonly commandLine: string;
  /** How many runs whose faults touch only their own clients may share the cluster at once (1: one run at a time). */
  readonly parallel: number;
  /** Write the HTML/Markdown report into the run directory (default true). */
  readonly report?: boolean;
  /** Run only this shard's share of the plan (runner/shard.ts); null or absent: all of it. */
  readonly shard?: Shard | null;
  /** CI files to write beside the run directory (--junit, --summary-md). */
  readonly ci?: CiFileOptions;
}

export interface LivePlanItem {
  readonly file: string;
  readonly scenario: Scenario;
  readonly system: SystemId;
  readonly subject: string | null;
  readonly fencing: boolean;
}

export function livePlan(command: Pick<LiveCommand, 'scenarios' | 'systems' | 'subjects' | 'fencing'>): LivePlanItem[] {
  const items: LivePlanItem[] = [];
  const available = liveSystems();
  for (const { file, scenario } of command.scenarios) {
    const systems = scenario.systems.filter(
      (s) => (command.systems === null || command.systems.includes(s)) && available.includes(s),
    );
    const fencings = [false, true].filter(
      (on) =>
        (command.fencing === 'both' || (command.fencing === 'on') === on) &&
        (scenario.fencing === 'both' || (scenario.fencing === 'on') === on),
    );
    for (const system of systems) {
      for (const fencing of fencings) items.push({ file, scenario, system, subject: null, fencing });
      for (const subject of command.subjects.filter((s) => s.definition.system === system)) {
        for (const fencing of fencings) items.push({ file, scenario, system, subject: subject.ref, fencing });
      }
    }
  }
  return items;
}

export async function liveCommand(command: LiveCommand, print: (line: string) => void): Promise<number> {
  const whole = livePlan(command);
  if (whole.length === 0)
    throw new UsageError('nothing to run: no scenario runs a selected system with the selected fencing');
  const shard = command.shard ?? null;
  const items = shareOf(whole, shard);
  if (shard !== null && items.length === 0)
    throw new UsageError(
      `--shard ${shardLabel(shard)}: this shard gets none of the ${whole.length} run(s); use at most ${whole.length} shards`,
    );
  const systems = [...new Set(items.map((i) => i.system))];
  print(
    `lockstep ${command.version} live: ${items.length} run(s) of ${command.scenarios.length} scenario(s) on ${systems.join(', ')} (provider ${command.provider.provider})` +
      (shard === null ? '' : `: shard ${shardLabel(shard)} of ${whole.length} run(s)`),
  );
  const started = performance.now();
  // A server that dies or does not start is named with its log: kept here, since teardown removes the cluster's directory.
  keepFailedLogsIn(command.outDir);
  const cluster: Cluster = await openCluster(
    command.provider,
    systems,
    Math.min(...items.map((i) => i.scenario.lock.ttlMs)),
  );
  print(`cluster ready in ${Math.round(performance.now() - started)} ms`);
  const logDir = mkdtempSync(join(tmpdir(), 'lockstep-clients-'));
  const removeLogs = removeOnExit(logDir);
  const outputs = new Array<LiveRunOutput>(items.length);
  const runs = new Array<TimedRun>(items.length);
  const progress = new LiveProgress(items.length);
  const runOne = async ({ item, index }: { item: (typeof items)[number]; index: number }) => {
    const label = `${item.scenario.name} ${item.subject ?? item.system} fencing=${item.fencing ? 'on' : 'off'}`;
    print(progress.starting(label));
    const runStarted = performance.now();
    const output = await runLive({ ...item, seed: command.seed, cluster, runIndex: index + 1, logDir });
    const wallMs = Math.round((performance.now() - runStarted) * 10) / 10;
    outputs[index] = output;
    runs[index] = { ...output.result, wallMs, file: item.file };
    const met = output.result.expectationMet;
    print(
      `${progress.finished()} ${label}: ${output.result.verdict}${output.result.skipped !== null ? ` (${output.result.skipped})` : met === null ? '' : met ? ' (as expected)' : ` (EXPECTED ${output.result.expected})`} (${wallMs} ms)`,
    );
  };
  try {
    // Runs whose faults touch only their own clients go `parallel` at a time; the others, which
    // pause, crash or cut servers, go alone afterwards.
    const indexed = items.map((item, index) => ({ item, index }));
    const shared = indexed.filter(
      ({ item }) =>
        command.parallel > 1 && touchesOnlyClients(item.scenario.faults, cluster.servers(item.system).length),
    );
    const alone = indexed.filter((entry) => !shared.includes(entry));
    let next = 0;
    const worker = async () => {
      for (let entry = shared[next++]; entry !== undefined; entry = shared[next++]) await runOne(entry);
    };
    await Promise.all(Array.from({ length: Math.min(command.parallel, shared.length) }, worker));
    for (const entry of alone) await runOne(entry);
  } finally {
    await cluster.stop();
    removeLogs();
  }
  const record: ShardRecord | null =
    shard === null
      ? null
      : {
          ...shard,
          planned: whole.length,
          inputs: planInputs('live', command, { seed: command.seed, provider: command.provider.provider }),
        };
  const header = {
    tool: { name: 'lockstep' as const, version: command.version },
    mode: 'live' as const,
    provider: command.provider.provider,
    createdAt: new Date().toISOString(),
    command: command.commandLine,
    references: referencesOf(whole.map((item) => item.scenario)),
    ...(record === null ? {} : { shard: record }),
  };
  const writer = RunDirWriter.open(command.outDir, new Date().toISOString().replace(/[:.]/g, '-'), header);
  outputs.forEach((output, i) => {
    const run = runs[i];
    if (run === undefined) throw new Error(`live: run ${i + 1} has an output but no result`);
    writer.add({ run, history: output.history, writes: output.writes });
  });
  const dir = writer.finish();
  const failed = printVerdicts(runs, print);
  if (command.report !== false) {
    const report = await writeReport([dir], dir);
    print(`report: ${report.html} (and ${report.markdown})`);
  }
  writer.pointLatest();
  const title = `lockstep live (${command.provider.provider})${shard === null ? '' : `, shard ${shardLabel(shard)}`}`;
  for (const line of writeCiFiles(command.ci ?? {}, { kind: 'runs', title, runs }, header.createdAt)) print(line);
  print(`run directory: ${dir}`);
  return failed > 0 ? 1 : 0;
}

/**
 * What a live command says while it works (a run takes 20 to 40 s): the run starting, how many
 * are done, and the time left, estimated from the runs done so far.
 */
class LiveProgress {
  private readonly started = performance.now();
  private done = 0;
  private begun = 0;

  constructor(private readonly total: number) {}

  starting(label: string): string {
    this.begun++;
    const left = this.done === 0 ? 'time left known after the first run' : `about ${this.timeLeft()} left`;
    return `[${this.begun}/${this.total}] starting ${label} (${this.done} done, ${left})`;
  }

  finished(): string {
    this.done++;
    return `[${this.done}/${this.total} done]`;
  }

  private timeLeft(): string {
    const seconds = Math.round(((performance.now() - this.started) / 1000 / this.done) * (this.total - this.done));
    return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  }
}

/** The provider options from the command line, checked. */
export function parseProvider(options: {
  provider: string;
  config?: string;
  postgres?: string;
  mysql?: string;
}): ProviderOptions {
  const urlOption = (name: string, raw: string | undefined, schemes: string[]): string | undefined => {
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(
        `${name} must be a URL like ${schemes[0]}://user@127.0.0.1:5432/db, got '${redactUrl(raw)}'`,
      );
    }
    if (!schemes.includes(url.protocol.replace(/:$/, '')))
      throw new UsageError(`${name} must be a ${schemes.join(' or ')}:// URL, got '${redactUrl(raw)}'`);
    return raw;
  };
  switch (options.provider) {
    case 'local':
      if (options.config !== undefined) throw new UsageError('--config is for --provider external');
      return {
        provider: 'local',
        postgresUrl: urlOption('--postgres', options.postgres, ['postgres', 'postgresql']),
        mysqlUrl: urlOption('--mysql', options.mysql, ['mysql']),
      };
    case 'external':
      if (options.config === undefined)
        throw new UsageError('--provider external needs --config FILE (the endpoints of the running cluster)');
      return { provider: 'external', config: options.config };
    case 'compose':
      return { provider: 'compose' };
    default:
      throw new UsageError(`--provider must be local, compose or external, got '${options.provider}'`);
  }
}

/** The comma-separated list of the older --subjects option, as names for --subject. */
export function splitSubjects(raw: string): string[] {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (ids.length === 0) throw new UsageError('--subjects needs at least one subject name');
  return ids;
}
