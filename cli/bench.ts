/**
 * `lockstep bench`: throughput of the simulator, measured in wall time. This is the one place
 * (with the live adapters) where real time is read.
 */
import { performance } from 'node:perf_hooks';
import { pingPong, promiseLoop } from '../bench/kernel.ts';
import { availableSystems, systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { runSimMutex } from '../runner/sim-harness.ts';
import { runScenario } from '../runner/run.ts';
import { loadScenarios } from '../scenarios/loader.ts';
import { plan } from './run.ts';
import fc from 'fast-check';
import { isUnsafe, searchSpace } from '../runner/check.ts';
import { scenarioArbitrary } from '../runner/search.ts';
import { CHECK_DURATION_MS } from './check.ts';
import { DEFAULT_SCHEDULES } from './compare.ts';
import { compare } from '../runner/compare.ts';
import { DEFAULT_WORKLOAD } from '../runner/campaign.ts';
import { RunPool } from '../runner/check-pool.ts';
import { loadSubject } from '../subjects/index.ts';
import type { SubjectDefinition } from '../subjects/define.ts';

export interface BenchResult {
  readonly tool: { readonly name: 'lockstep'; readonly version: string };
  readonly node: string;
  /** Events per wall second: client/server pairs exchanging messages with async handlers. */
  readonly kernelEventsPerSec: number;
  /** Wake-and-reblock cycles per wall second of a bare promise loop: the ceiling the kernel works under. */
  readonly promiseLoopPerSec: number;
  /** kernelEventsPerSec / promiseLoopPerSec. */
  readonly kernelEfficiency: number;
  /** Simulated time / wall time, per system: 5 clients, no faults, 60 s of the mutex workload. */
  readonly simulatedPerWall: Partial<Record<SystemId, number>>;
  /**
   * The same, for built-in subjects (unmodified lock libraries) in place of their system's recipe,
   * beside that recipe run the same way (unfenced, as a subject without tokens runs), measured in
   * the same bench: node-redlock beside lockstep's RedLock.
   */
  readonly subjectSimulatedPerWall: Record<string, { readonly subject: number; readonly recipe: number }>;
  /** Wall seconds of the default `lockstep run` (the whole library, seed 1), without writing files. */
  readonly librarySeconds: number;
  /** Property runs judged per second by `lockstep check` on one core (5-second scenarios, swarm), over every system. */
  readonly checkRunsPerSec: number;
  readonly checkRunsPerSecBySystem: Partial<Record<SystemId, number>>;
  /** Runs per wall second of the default `lockstep compare` (500 schedules x 6 systems x 2, shrinking and speed included), 2 workers. */
  readonly compareRunsPerSec: number;
  /** Wall seconds of that campaign. */
  readonly compareSeconds: number;
  readonly details: {
    readonly kernel: {
      readonly pairs: number;
      readonly events: number;
      readonly samplesPerSec: number[];
      readonly traceHash: string;
    };
    readonly promiseLoop: { readonly iterations: number; readonly samplesPerSec: number[] };
  };
}

const SAMPLES = 5;
const PAIRS = 4;
const ROUNDS_PER_PAIR = 125_000;
const PROMISE_ITERATIONS = 2_000_000;

/** Median of several samples, after one warm-up run of each workload. */
export async function runBench(version: string, library: string): Promise<BenchResult> {
  await kernelSample(PAIRS, 10_000);
  await promiseSample(100_000);
  const kernelSamples: number[] = [];
  let events = 0;
  let traceHash = '';
  for (let i = 0; i < SAMPLES; i++) {
    const sample = await kernelSample(PAIRS, ROUNDS_PER_PAIR);
    kernelSamples.push(sample.perSec);
    events = sample.events;
    traceHash = sample.traceHash;
  }
  const promiseSamples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) promiseSamples.push(await promiseSample(PROMISE_ITERATIONS));
  const kernelEventsPerSec = median(kernelSamples);
  const promiseLoopPerSec = median(promiseSamples);
  const simulatedPerWall: Partial<Record<SystemId, number>> = {};
  for (const id of availableSystems()) simulatedPerWall[id] = await systemSpeed(id, true);
  const subjectSimulatedPerWall: BenchResult['subjectSimulatedPerWall'] = {};
  for (const name of BENCH_SUBJECTS) {
    const subject = await loadSubject(name);
    const fencing = subject.tokens === true;
    subjectSimulatedPerWall[name] = {
      subject: await systemSpeed(subject.system, fencing, subject),
      recipe: await systemSpeed(subject.system, fencing),
    };
  }
  const checkRates = await checkSpeed();
  const campaign = await compareSpeed();
  return {
    tool: { name: 'lockstep', version },
    node: process.version,
    kernelEventsPerSec,
    promiseLoopPerSec,
    kernelEfficiency: round(kernelEventsPerSec / promiseLoopPerSec, 3),
    simulatedPerWall,
    subjectSimulatedPerWall,
    librarySeconds: await librarySeconds(library),
    checkRunsPerSec: checkRates.overall,
    checkRunsPerSecBySystem: checkRates.bySystem,
    compareRunsPerSec: campaign.runsPerSec,
    compareSeconds: campaign.seconds,
    details: {
      kernel: { pairs: PAIRS, events, samplesPerSec: kernelSamples, traceHash },
      promiseLoop: { iterations: PROMISE_ITERATIONS, samplesPerSec: promiseSamples },
    },
  };
}

const SPEED_DURATION_MS = 60_000;

/** The subjects whose speed the bench measures: the RedLock library most Node services deploy. */
const BENCH_SUBJECTS = ['node-redlock'];

/**
 * Median of five no-fault runs, after five warm-up runs of the same size. A run is about 100 ms of
 * wall time, and the JIT is still compiling the models' hot paths over the first few: measured
 * after two warm-ups, the same build read 20 to 40% slower from one bench to the next. Five and
 * five measure the steady state that `run --seeds`, `check` and `compare` spend their time in.
 */
async function systemSpeed(id: SystemId, fencing: boolean, subject?: SubjectDefinition): Promise<number> {
  const run = (durationMs: number, seed: number) =>
    runSimMutex({
      ...(subject === undefined ? {} : { subject }),
      system: systemModule(id),
      seed,
      fencing,
      clients: 5,
      durationMs,
      ttlMs: 2000,
      holdMs: 100,
      thinkMs: 50,
    });
  for (let seed = 100; seed < 105; seed++) await run(SPEED_DURATION_MS, seed);
  const samples: number[] = [];
  for (let seed = 1; seed <= 5; seed++) {
    const started = performance.now();
    await run(SPEED_DURATION_MS, seed);
    samples.push(Math.round(SPEED_DURATION_MS / (performance.now() - started)));
  }
  return median(samples);
}

const CHECK_RUNS = 100;

/** Judge CHECK_RUNS generated schedules per system, fenced where the token is sound, as check does. */
async function checkSpeed(): Promise<{ overall: number; bySystem: Partial<Record<SystemId, number>> }> {
  const bySystem: Partial<Record<SystemId, number>> = {};
  let runs = 0;
  let seconds = 0;
  for (const system of availableSystems()) {
    const fencing = systemModule(system).fencing === 'sound';
    const candidates = fc.sample(
      scenarioArbitrary(searchSpace({ system, fencing, durationMs: CHECK_DURATION_MS, swarm: true })),
      { seed: 1, numRuns: CHECK_RUNS },
    );
    for (const scenario of candidates.slice(0, 10)) await isUnsafe(scenario, 1, system, fencing);
    const started = performance.now();
    for (const scenario of candidates) await isUnsafe(scenario, 1, system, fencing);
    const elapsed = (performance.now() - started) / 1000;
    bySystem[system] = Math.round(CHECK_RUNS / elapsed);
    runs += CHECK_RUNS;
    seconds += elapsed;
  }
  return { overall: Math.round(runs / seconds), bySystem };
}

const COMPARE_WORKERS = 2;

/** The default campaign, as `lockstep compare --workers 2` runs it, without writing files. */
async function compareSpeed(): Promise<{ runsPerSec: number; seconds: number }> {
  const systems = availableSystems();
  const pool = new RunPool(COMPARE_WORKERS);
  try {
    const started = performance.now();
    await compare({
      schedules: DEFAULT_SCHEDULES,
      seed: 1,
      systems,
      workload: DEFAULT_WORKLOAD,
      summaries: (requests) => pool.summaries(requests),
    });
    const seconds = (performance.now() - started) / 1000;
    return { runsPerSec: Math.round((DEFAULT_SCHEDULES * systems.length * 2) / seconds), seconds: round(seconds, 1) };
  } finally {
    await pool.close();
  }
}

async function librarySeconds(library: string): Promise<number> {
  const items = plan({
    scenarios: loadScenarios([library]),
    systems: availableSystems(),
    fencing: 'both',
    seed: 1,
    seeds: 1,
  });
  const started = performance.now();
  for (const item of items) await runScenario(item);
  return round((performance.now() - started) / 1000, 2);
}

async function kernelSample(
  pairs: number,
  rounds: number,
): Promise<{ perSec: number; events: number; traceHash: string }> {
  const sim = pingPong({ seed: 1, pairs, rounds });
  const started = performance.now();
  const summary = await sim.run();
  const seconds = (performance.now() - started) / 1000;
  return { perSec: Math.round(summary.events / seconds), events: summary.events, traceHash: summary.traceHash };
}

async function promiseSample(iterations: number): Promise<number> {
  const started = performance.now();
  await promiseLoop(iterations);
  return Math.round(iterations / ((performance.now() - started) / 1000));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('bench: the median of no samples');
  return middle;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function formatBench(result: BenchResult): string {
  const m = (n: number) => `${(n / 1e6).toFixed(2)}M/s`;
  return [
    `kernel events   ${m(result.kernelEventsPerSec)}  (${result.details.kernel.pairs} client/server pairs, ${result.details.kernel.events} events per sample)`,
    `promise loop    ${m(result.promiseLoopPerSec)}  (bare wake-and-reblock loop)`,
    `efficiency      ${result.kernelEfficiency}`,
    ...Object.entries(result.simulatedPerWall).map(
      ([id, x]) => `${id.padEnd(15)} ${x}x real time (5 clients, no faults)`,
    ),
    ...Object.entries(result.subjectSimulatedPerWall).map(
      ([name, x]) =>
        `${name.padEnd(15)} ${x.subject}x real time, its system's recipe ${x.recipe}x (unfenced, same workload)`,
    ),
    `library         ${result.librarySeconds} s for the default lockstep run`,
    `check           ${result.checkRunsPerSec} runs/s (${Object.entries(result.checkRunsPerSecBySystem)
      .map(([id, n]) => `${id} ${n}`)
      .join(', ')})`,
    `compare         ${result.compareRunsPerSec} runs/s (${result.compareSeconds} s for the default campaign, ${COMPARE_WORKERS} workers)`,
  ].join('\n');
}
