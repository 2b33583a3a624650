/**
 * The scenario format: what a scenario file may say, checked field by field. The JSON Schema in
 * scenario.schema.json is generated from this (npm run schema, scripts/write-schemas.ts) so that editors can check files too.
 */
import { z } from 'zod';
import { SYSTEM_IDS } from '../backends/recipe.ts';

/**
 * Every limit of the format, in one place. Each is chosen so that the largest scenario accepted
 * still runs within 2 GB and a couple of minutes per run (README, "Limits"): a run's cost grows
 * with its events, which runner/sim-harness.ts caps, and with what a scenario makes the tool build
 * before the run starts (partition links, fault timers), which these bound.
 */
export const LIMITS = {
  nameLength: 64,
  descriptionLength: 4000,
  clients: 64,
  durationMs: 3_600_000,
  /**
   * Below this, a lease leaves no room for the clients' own request timeouts (never under 5 ms):
   * RedLock, for one, refuses a TTL no longer than its per-node timeout.
   */
  ttlMsMin: 100,
  /** Ten minutes: the end-of-run grace is three leases and two holds, so it stays bounded too. */
  ttlMs: 600_000,
  holdMs: 600_000,
  thinkMs: 600_000,
  latencyMs: 60_000,
  faults: 100,
  nth: 1_000_000,
  jumpMs: 86_400_000,
  driftPpm: 1_000_000,
  /** 64 clients and up to 5 servers, each named once, plus a few group selectors. */
  partitionGroups: 16,
  partitionSelectors: 72,
  expect: 12,
  schemaLength: 2048,
} as const;

const notANumber = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `missing; expected ${what} in milliseconds` : `${what} must be a number of milliseconds`;
const ms = (what: string, max: number) =>
  z.number({ error: notANumber(what) }).finite().nonnegative({ error: `${what} must be >= 0` }).max(max, { error: `${what} must be <= ${max}` });
const positiveMs = (what: string, max: number) =>
  z.number({ error: notANumber(what) }).finite().positive({ error: `${what} must be > 0` }).max(max, { error: `${what} must be <= ${max}` });

/** Who a fault hits. Resolved per system at run time; a selector a system has no node for skips the run. */
export const SELECTOR = /^(c[1-9]\d*|server-[1-9]\d*|clients|servers|holder|leader|majority|minority|one)$/;
const selector = z
  .string({ error: 'a selector must be a string' })
  .regex(SELECTOR, { error: 'expected a selector: c1..cN, server-1..n, clients, servers, holder, leader, majority, minority or one' });

const system = z.enum(SYSTEM_IDS, { error: `expected one of ${SYSTEM_IDS.join(', ')}` });

const trigger = {
  at: ms('at', LIMITS.durationMs).optional().describe(`ms from the start of the run, at most ${LIMITS.durationMs}`),
  after: z
    .strictObject({
      event: z.enum(['acquired', 'elected'], { error: "expected 'acquired' or 'elected'" }),
      client: selector.optional().describe('whose event; default: any client'),
      nth: z
        .number()
        .int({ error: 'nth must be a whole number' })
        .min(1, { error: 'nth must be >= 1' })
        .max(LIMITS.nth, { error: `nth must be <= ${LIMITS.nth}` })
        .default(1)
        .describe(`1..${LIMITS.nth}`),
      waitMs: ms('waitMs', LIMITS.durationMs).default(0).describe(`fire this long after the event, at most ${LIMITS.durationMs} ms`),
    })
    .optional()
    .describe('fire just after the nth matching event'),
};

const partitionSpec = z
  .strictObject({
    isolate: selector.optional().describe('cut these nodes off from every other node'),
    groups: z
      .array(z.array(selector).min(1, { error: 'a group needs at least one selector' }))
      .min(2, { error: 'groups needs at least two groups' })
      .max(LIMITS.partitionGroups, { error: `groups takes at most ${LIMITS.partitionGroups} groups` })
      .refine((groups) => groups.flat().length <= LIMITS.partitionSelectors, {
        error: `groups takes at most ${LIMITS.partitionSelectors} selectors in all (64 clients and the servers, each by name)`,
      })
      .optional()
      .describe(`cut every link between groups; at most ${LIMITS.partitionGroups} groups, ${LIMITS.partitionSelectors} selectors in all`),
    halves: z.literal(true).optional().describe('split the servers into a majority and a minority'),
    bridge: z.literal(true).optional().describe('split the servers in two, with one server still talking to both sides'),
  })
  .refine((p) => [p.isolate, p.groups, p.halves, p.bridge].filter((x) => x !== undefined).length === 1, {
    error: 'a partition takes exactly one of isolate, groups, halves or bridge',
  });

const faultKinds = {
  pause: selector.optional(),
  crash: selector.optional(),
  partition: partitionSpec.optional(),
  delay: selector.optional(),
  loss: selector.optional(),
  clock: selector.optional(),
};
const KINDS = Object.keys(faultKinds) as (keyof typeof faultKinds)[];

export const faultSchema = z
  .strictObject({
    ...trigger,
    ...faultKinds,
    forMs: positiveMs('forMs', LIMITS.durationMs).optional().describe(`heal after this long (at most ${LIMITS.durationMs}); default: at the end of the run`),
    restartAfterMs: ms('restartAfterMs', LIMITS.durationMs).optional().describe(`crash: restart after this long (at most ${LIMITS.durationMs}); default: stay down`),
    persist: z.boolean({ error: 'persist must be true or false' }).optional().describe('crash: keep the disk across the restart'),
    mode: z.enum(['drop', 'hold'], { error: "expected 'drop' or 'hold'" }).optional().describe('partition: lose packets, or hold them until heal'),
    delayMs: positiveMs('delayMs', LIMITS.latencyMs).optional().describe(`delay: extra latency each way, at most ${LIMITS.latencyMs}`),
    probability: z.number().min(0).max(1, { error: 'probability must be in [0, 1]' }).optional().describe('loss: chance a packet is lost'),
    jumpMs: z
      .number()
      .finite()
      .min(-LIMITS.jumpMs, { error: `jumpMs must be >= -${LIMITS.jumpMs} (one day)` })
      .max(LIMITS.jumpMs, { error: `jumpMs must be <= ${LIMITS.jumpMs} (one day)` })
      .optional()
      .describe(`clock: step the wall clock by this much, within one day either way`),
    driftPpm: z
      .number()
      .finite()
      .gt(-LIMITS.driftPpm, { error: `driftPpm must be > -${LIMITS.driftPpm}` })
      .max(LIMITS.driftPpm, { error: `driftPpm must be <= ${LIMITS.driftPpm} (twice as fast)` })
      .optional()
      .describe('clock: run fast (+) or slow (-)'),
  })
  .superRefine((fault, ctx) => {
    const kinds = KINDS.filter((k) => fault[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a fault takes exactly one kind (${KINDS.join(', ')}), got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}` });
      return;
    }
    if ((fault.at === undefined) === (fault.after === undefined)) ctx.addIssue({ code: 'custom', message: 'a fault takes exactly one trigger: at or after' });
    const kind = kinds[0]!;
    const allowed: Record<string, readonly string[]> = {
      pause: ['forMs'],
      crash: ['restartAfterMs', 'persist'],
      partition: ['forMs', 'mode'],
      delay: ['forMs', 'delayMs'],
      loss: ['forMs', 'probability'],
      clock: ['forMs', 'jumpMs', 'driftPpm'],
    };
    for (const option of ['forMs', 'restartAfterMs', 'persist', 'mode', 'delayMs', 'probability', 'jumpMs', 'driftPpm'] as const) {
      if (fault[option] !== undefined && !allowed[kind]!.includes(option)) {
        ctx.addIssue({ code: 'custom', path: [option], message: `${option} does not apply to a ${kind} fault` });
      }
    }
    if (kind === 'delay' && fault.delayMs === undefined) ctx.addIssue({ code: 'custom', path: ['delayMs'], message: 'a delay fault needs delayMs' });
    if (kind === 'loss' && fault.probability === undefined) ctx.addIssue({ code: 'custom', path: ['probability'], message: 'a loss fault needs probability' });
    if (kind === 'clock' && (fault.jumpMs === undefined) === (fault.driftPpm === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a clock fault takes exactly one of jumpMs or driftPpm' });
    }
  });

export const expectationSchema = z.strictObject({
  system,
  fencing: z.enum(['off', 'on'], { error: "expected 'off' or 'on'" }),
  verdict: z.enum(['safe', 'unsafe'], { error: "expected 'safe' or 'unsafe'" }),
});

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().max(LIMITS.schemaLength, { error: `$schema must be at most ${LIMITS.schemaLength} characters` }).optional(),
    // History files are named <scenario>.<system>.<on|off>.<seed>.jsonl: a short name keeps them under the 255-byte file name limit.
    name: z
      .string()
      .regex(/^[a-z0-9-]+$/, { error: 'name must match [a-z0-9-]+' })
      .max(LIMITS.nameLength, { error: `name must be at most ${LIMITS.nameLength} characters (it names the run's files)` })
      .describe(`[a-z0-9-]+, at most ${LIMITS.nameLength} characters`),
    description: z
      .string({ error: 'description must be a string' })
      .min(1)
      .max(LIMITS.descriptionLength, { error: `description must be at most ${LIMITS.descriptionLength} characters` }),
    workload: z.enum(['mutex', 'election'], { error: "expected 'mutex' or 'election'" }).default('mutex'),
    systems: z
      .array(system)
      .min(1, { error: 'systems needs at least one system' })
      .refine((ids) => new Set(ids).size === ids.length, { error: 'systems names a system twice' })
      .default([...SYSTEM_IDS]),
    fencing: z.enum(['off', 'on', 'both'], { error: "expected 'off', 'on' or 'both'" }).default('both'),
    clients: z
      .number()
      .int({ error: 'clients must be a whole number' })
      .min(1, { error: 'clients must be >= 1' })
      .max(LIMITS.clients, { error: `clients must be <= ${LIMITS.clients}` })
      .default(3),
    durationMs: positiveMs('durationMs', LIMITS.durationMs).describe(`at most ${LIMITS.durationMs} (one hour)`),
    lock: z
      .strictObject({
        ttlMs: positiveMs('ttlMs', LIMITS.ttlMs)
          .min(LIMITS.ttlMsMin, {
            error: `ttlMs must be >= ${LIMITS.ttlMsMin}: every system's client times its requests out within the lease, never under 5 ms, and RedLock refuses a TTL no longer than that`,
          })
          .default(2000)
          .describe(`${LIMITS.ttlMsMin}..${LIMITS.ttlMs} (ten minutes)`),
        holdMs: ms('holdMs', LIMITS.holdMs).default(100),
        thinkMs: ms('thinkMs', LIMITS.thinkMs).default(50),
      })
      .default({ ttlMs: 2000, holdMs: 100, thinkMs: 50 })
      .describe('ttlMs: lease, session timeout, or time for a DB to notice a dead connection; election leaders work every holdMs'),
    network: z
      .strictObject({
        latencyMs: z
          .strictObject({ min: ms('latencyMs.min', LIMITS.latencyMs), max: ms('latencyMs.max', LIMITS.latencyMs) })
          .refine((l) => l.max >= l.min, { error: 'latencyMs.max must be >= latencyMs.min' })
          .refine((l) => l.max > 0, { error: 'latencyMs.max must be > 0: on a network without latency, a client can loop forever without time passing' })
          .default({ min: 1, max: 3 }),
      })
      .default({ latencyMs: { min: 1, max: 3 } }),
    faults: z.array(faultSchema).max(LIMITS.faults, { error: `at most ${LIMITS.faults} faults` }).default([]),
    expect: z
      .array(expectationSchema)
      .max(LIMITS.expect, { error: `at most ${LIMITS.expect} expectations (one per system and fencing)` })
      .default([]),
  })
  .superRefine((scenario, ctx) => {
    scenario.expect.forEach((e, i) => {
      if (!scenario.systems.includes(e.system)) {
        ctx.addIssue({ code: 'custom', path: ['expect', i, 'system'], message: `expects '${e.system}', which the scenario does not run (systems: ${scenario.systems.join(', ')})` });
      }
      if (scenario.fencing !== 'both' && e.fencing !== scenario.fencing) {
        ctx.addIssue({ code: 'custom', path: ['expect', i, 'fencing'], message: `expects fencing ${e.fencing}, but the scenario runs fencing ${scenario.fencing} only` });
      }
    });
    scenario.faults.forEach((fault, i) => {
      for (const s of selectorsOf(fault)) {
        const client = /^c(\d+)$/.exec(s);
        if (client !== null && Number(client[1]) > scenario.clients) {
          ctx.addIssue({ code: 'custom', path: ['faults', i], message: `selector ${s}, but the scenario has ${scenario.clients} client(s)` });
        }
      }
      if (fault.after?.event === 'elected' && scenario.workload !== 'election') {
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'after', 'event'], message: "event 'elected' needs workload: election" });
      }
      if (fault.after?.event === 'acquired' && scenario.workload !== 'mutex') {
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'after', 'event'], message: "event 'acquired' needs workload: mutex" });
      }
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type Fault = z.output<typeof faultSchema>;
export type Expectation = z.output<typeof expectationSchema>;

/** Every selector a fault names. */
export function selectorsOf(fault: Fault): string[] {
  const out: string[] = [];
  for (const kind of ['pause', 'crash', 'delay', 'loss', 'clock'] as const) if (fault[kind] !== undefined) out.push(fault[kind]);
  if (fault.partition?.isolate !== undefined) out.push(fault.partition.isolate);
  for (const group of fault.partition?.groups ?? []) out.push(...group);
  if (fault.after?.client !== undefined) out.push(fault.after.client);
  return out;
}
