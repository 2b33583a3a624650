/**
 * The scenario format: what a scenario file may say, checked field by field. The JSON Schema in
 * scenario.schema.json is generated from this (npm run schema, scripts/write-schemas.ts) so that editors can check files too.
 */
import { z } from 'zod';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { ETCD_MUTEXES, SENTINEL_DEFAULTS } from '../backends/system.ts';
import { FAULT_KIND_NAMES, FAULT_KINDS, selectorsOf, type Fault } from '../faults/index.ts';
import { drawnMs, forMs, LIMITS, ms, positiveMs, trigger } from '../faults/fields.ts';

export { LIMITS, SELECTOR } from '../faults/fields.ts';

/**
 * A scenario name made from `label` (a system's or a subject's name, which may hold any
 * character) and `suffix` ([a-z0-9-] already): lower case, other characters as '-', the label cut
 * so that the whole stays within LIMITS.nameLength. For the files lockstep writes itself.
 */
export function scenarioName(label: string, suffix: string): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `${safe.slice(0, Math.max(1, LIMITS.nameLength - suffix.length))}${suffix}`;
}
export { selectorsOf, type Fault };

const system = z.enum(SYSTEM_IDS, { error: `expected one of ${SYSTEM_IDS.join(', ')}` });

/**
 * A fault as a file writes it: the trigger, then each kind's key and options, all optional, checked
 * in one object so that a mistake gets one message naming it ("forMs does not apply to a crash
 * fault") rather than a union's list of every kind it failed to be. Checked, it is the union Fault
 * (exactly one kind's fields), in the file's own shape: so a counterexample prints back as the file
 * that replays it, and the JSON Schema, generated from this object, shows editors that shape.
 */
function faultFormat() {
  const shape: Record<string, z.ZodType> = { ...trigger };
  for (const kind of FAULT_KINDS) {
    const own = kind.fields[kind.name];
    if (own === undefined) throw new Error(`fault kind ${kind.name} declares no field named ${kind.name}`);
    shape[kind.name] = own.optional();
  }
  shape.forMs = forMs;
  const options = ['forMs'];
  for (const kind of FAULT_KINDS) {
    for (const [option, schema] of Object.entries(kind.fields)) {
      if (option === kind.name || option === 'forMs') continue;
      if (shape[option] !== undefined)
        throw new Error(`fault option ${option} is declared twice: by ${kind.name} and before it`);
      shape[option] = schema;
      options.push(option);
    }
  }
  return { shape, options };
}

const format = faultFormat();

const faultFormatSchema = z.strictObject(format.shape).superRefine((fault, ctx) => {
  const kinds = FAULT_KINDS.filter((k) => fault[k.name] !== undefined);
  const [kind, ...others] = kinds;
  if (kind === undefined || others.length > 0) {
    const got = kinds.length === 0 ? 'none' : kinds.map((k) => k.name).join(' and ');
    ctx.addIssue({
      code: 'custom',
      message: `a fault takes exactly one kind (${FAULT_KIND_NAMES.join(', ')}), got ${got}`,
    });
    return;
  }
  if ((fault.at === undefined) === (fault.after === undefined))
    ctx.addIssue({ code: 'custom', message: 'a fault takes exactly one trigger: at or after' });
  for (const option of format.options) {
    if (fault[option] !== undefined && !(option in kind.fields)) {
      ctx.addIssue({ code: 'custom', path: [option], message: `${option} does not apply to a ${kind.name} fault` });
    }
  }
  // `never`: the kind found above is one of several types, and it owns the fields it is handed.
  kind.refine?.(fault as never, (message, path) =>
    ctx.addIssue({ code: 'custom', message, ...(path === undefined ? {} : { path: [path] }) }),
  );
});

/**
 * Typed as what the checks above guarantee. A cast rather than a `.transform()`: a transform would
 * say the same at run time, but zod then drops the faults' `default: []` from the JSON Schema,
 * since it can no longer vouch that a default of the output type is valid input.
 */
export const faultSchema = faultFormatSchema as unknown as z.ZodType<Fault, z.input<typeof faultFormatSchema>>;

/**
 * Bounds a run must keep besides its verdict, so that a liveness claim ("a partition costs about
 * one lease") is checked, not only read: each is a maximum over the run.
 */
const boundsSchema = z
  .strictObject({
    lostFraction: z
      .number({ error: 'bounds.lostFraction must be a number' })
      .min(0)
      .max(1, { error: 'bounds.lostFraction is a fraction of acknowledged writes, 0..1' })
      .optional()
      .describe('lost updates / acknowledged writes, at most'),
    unavailableMs: ms('bounds.unavailableMs', LIMITS.durationMs)
      .optional()
      .describe('time someone wanted the lock and nobody (running) held it, at most'),
    takeoverMs: ms('bounds.takeoverMs', LIMITS.durationMs)
      .optional()
      .describe('each hand-over after a holder was lost (crashed, paused, or cut off from every node), at most'),
    failoverMs: ms('bounds.failoverMs', LIMITS.durationMs)
      .optional()
      .describe('elections: each failover to a new leader, at most'),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'bounds names no bound' });

/**
 * A published result the scenario reproduces, so a report can set its own figure beside it: who
 * published it, where, the lost-update fraction they measured, and why the two may differ.
 */
export const referenceSchema = z
  .strictObject({
    source: z
      .string({ error: 'reference.source must be a string' })
      .min(1, { error: 'reference.source must not be empty' })
      .max(LIMITS.sourceLength, { error: `reference.source must be at most ${LIMITS.sourceLength} characters` })
      .describe('who published the figure, and of what: "Jepsen, etcd 3.4.3 (2020)"'),
    url: z
      .string({ error: 'reference.url must be a string' })
      .max(LIMITS.urlLength, { error: `reference.url must be at most ${LIMITS.urlLength} characters` })
      .regex(/^https:\/\/[^\s"'<>`]+$/, { error: 'reference.url must be an https:// address without spaces or quotes' })
      .optional()
      .describe('where it was published (https)'),
    lostFraction: z
      .number({ error: 'reference.lostFraction must be a number' })
      .min(0, { error: 'reference.lostFraction is a fraction, 0..1' })
      .max(1, { error: 'reference.lostFraction is a fraction, 0..1' })
      .optional()
      .describe('the lost updates over acknowledged writes they measured, 0..1'),
    note: z
      .string({ error: 'reference.note must be a string' })
      .min(1, { error: 'reference.note must not be empty' })
      .max(LIMITS.descriptionLength, { error: `reference.note must be at most ${LIMITS.descriptionLength} characters` })
      .describe("why this scenario's figure may differ from theirs"),
  })
  .describe('a published result this scenario reproduces; the report sets the measured figure beside it');

export const expectationSchema = z.strictObject({
  system,
  fencing: z.enum(['off', 'on'], { error: "expected 'off' or 'on'" }),
  verdict: z.enum(['safe', 'unsafe'], { error: "expected 'safe' or 'unsafe'" }),
  bounds: boundsSchema.optional(),
});

/** redis-sentinel's settings: Sentinel's timing, the primary's min-replicas guard, the recipe's WAIT. */
const sentinelSchema = z
  .strictObject({
    downAfterMs: positiveMs('sentinel.downAfterMs', LIMITS.ttlMs)
      .default(SENTINEL_DEFAULTS.downAfterMs)
      .describe("Sentinel's down-after-milliseconds: silence after which an instance is deemed down"),
    failoverTimeoutMs: positiveMs('sentinel.failoverTimeoutMs', LIMITS.ttlMs)
      .default(SENTINEL_DEFAULTS.failoverTimeoutMs)
      .describe("Sentinel's failover-timeout; a failed failover is retried after twice this"),
    minReplicasToWrite: z
      .number()
      .int({ error: 'sentinel.minReplicasToWrite must be a whole number' })
      .min(0, { error: 'sentinel.minReplicasToWrite must be 0, 1 or 2' })
      .max(2, { error: 'sentinel.minReplicasToWrite must be 0, 1 or 2 (there are two replicas)' })
      .default(SENTINEL_DEFAULTS.minReplicasToWrite)
      .describe("the primary's min-replicas-to-write: refuse writes with fewer replicas that acked recently (0: off)"),
    minReplicasMaxLagS: z
      .number()
      .int({ error: 'sentinel.minReplicasMaxLagS must be a whole number of seconds' })
      .min(1, { error: 'sentinel.minReplicasMaxLagS must be >= 1' })
      .max(3600, { error: 'sentinel.minReplicasMaxLagS must be <= 3600' })
      .default(SENTINEL_DEFAULTS.minReplicasMaxLagS)
      .describe("the primary's min-replicas-max-lag, in seconds"),
    waitReplicas: z
      .number()
      .int({ error: 'sentinel.waitReplicas must be a whole number' })
      .min(0, { error: 'sentinel.waitReplicas must be 0, 1 or 2' })
      .max(2, { error: 'sentinel.waitReplicas must be 0, 1 or 2 (there are two replicas)' })
      .default(SENTINEL_DEFAULTS.waitReplicas)
      .describe(
        'the recipe: WAIT for this many replicas after a grant, releasing and retrying a grant they did not ack (0: no WAIT)',
      ),
    waitTimeoutMs: positiveMs('sentinel.waitTimeoutMs', LIMITS.ttlMs)
      .default(SENTINEL_DEFAULTS.waitTimeoutMs)
      .describe("WAIT's timeout"),
  })
  .default(SENTINEL_DEFAULTS)
  .describe('redis-sentinel only; every field optional');

export const scenarioSchema = z
  .strictObject({
    $schema: z
      .string()
      .max(LIMITS.schemaLength, { error: `$schema must be at most ${LIMITS.schemaLength} characters` })
      .optional(),
    // History files are named <scenario>.<system>.<on|off>.<seed>.jsonl: a short name keeps them under the 255-byte file name limit.
    name: z
      .string()
      .regex(/^[a-z0-9-]+$/, { error: 'name must match [a-z0-9-]+' })
      .max(LIMITS.nameLength, {
        error: `name must be at most ${LIMITS.nameLength} characters (it names the run's files)`,
      })
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
        holdMs: drawnMs('holdMs', LIMITS.holdMs)
          .default(100)
          .describe('ms, { uniform: [min, max] } or { exponential: { meanMs } }, drawn afresh for every hold'),
        thinkMs: drawnMs('thinkMs', LIMITS.thinkMs)
          .default(50)
          .describe(
            'ms, { uniform: [min, max] } or { exponential: { meanMs } }, drawn afresh for every pause between rounds',
          ),
        careful: z
          .boolean({ error: 'careful must be true or false' })
          .default(false)
          .describe('mutex: before writing, check what the recipe knows of the lock and skip the write if it lapsed'),
        etcdMutex: z
          .enum(ETCD_MUTEXES, { error: `expected ${ETCD_MUTEXES.map((v) => `'${v}'`).join(' or ')}` })
          .default('3.5')
          .describe(
            "etcd only: whose concurrency.Mutex the recipe follows; '3.4.3' grants a waiter whose lease ran out while it waited (etcd-io/etcd#11456)",
          ),
        sentinel: sentinelSchema,
      })
      .default({ ttlMs: 2000, holdMs: 100, thinkMs: 50, careful: false, etcdMutex: '3.5', sentinel: SENTINEL_DEFAULTS })
      .describe(
        'ttlMs: lease, session timeout, or time for a DB to notice a dead connection; election leaders work every holdMs',
      ),
    network: z
      .strictObject({
        latencyMs: z
          .strictObject({ min: ms('latencyMs.min', LIMITS.latencyMs), max: ms('latencyMs.max', LIMITS.latencyMs) })
          .refine((l) => l.max >= l.min, { error: 'latencyMs.max must be >= latencyMs.min' })
          .refine((l) => l.max > 0, {
            error:
              'latencyMs.max must be > 0: on a network without latency, a client can loop forever without time passing',
          })
          .default({ min: 1, max: 3 }),
      })
      .default({ latencyMs: { min: 1, max: 3 } }),
    faults: z
      .array(faultSchema)
      .max(LIMITS.faults, { error: `at most ${LIMITS.faults} faults` })
      .default([]),
    expect: z
      .array(expectationSchema)
      .max(LIMITS.expect, { error: `at most ${LIMITS.expect} expectations (one per system and fencing)` })
      .default([]),
    reference: referenceSchema.optional(),
  })
  .superRefine((scenario, ctx) => {
    scenario.expect.forEach((e, i) => {
      if (!scenario.systems.includes(e.system)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', i, 'system'],
          message: `expects '${e.system}', which the scenario does not run (systems: ${scenario.systems.join(', ')})`,
        });
      }
      if (scenario.fencing !== 'both' && e.fencing !== scenario.fencing) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', i, 'fencing'],
          message: `expects fencing ${e.fencing}, but the scenario runs fencing ${scenario.fencing} only`,
        });
      }
    });
    scenario.faults.forEach((fault, i) => {
      for (const s of selectorsOf(fault)) {
        const client = /^c(\d+)$/.exec(s);
        if (client !== null && Number(client[1]) > scenario.clients) {
          ctx.addIssue({
            code: 'custom',
            path: ['faults', i],
            message: `selector ${s}, but the scenario has ${scenario.clients} client(s)`,
          });
        }
      }
      if (fault.after?.event === 'elected' && scenario.workload !== 'election') {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'after', 'event'],
          message: "event 'elected' needs workload: election",
        });
      }
      const event = fault.after?.event;
      if ((event === 'acquired' || event === 'writing') && scenario.workload !== 'mutex') {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'after', 'event'],
          message: `event '${event}' needs workload: mutex`,
        });
      }
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type Expectation = z.output<typeof expectationSchema>;
