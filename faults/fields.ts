/**
 * The fields the scenario format shares between its parts: the limits, durations, selectors and a
 * fault's trigger. Kept apart from schema.ts because each fault kind (faults/) builds its
 * own fields from these, and schema.ts builds the fault from the kinds: with both in one file the
 * two would import each other.
 */
import { z } from 'zod';

/**
 * Every limit of the format, in one place. Each is chosen so that the largest scenario accepted
 * still runs within 2 GB and a couple of minutes per run (README, "Limits"): a run's cost grows
 * with its events, which runner/loop.ts caps, and with what a scenario makes the tool build
 * before the run starts (partition links, fault timers), which these bound.
 */
export const LIMITS = {
  nameLength: 64,
  descriptionLength: 4000,
  /** A reference's source ("Jepsen, etcd 3.4.3 (2020)") and its address. */
  sourceLength: 256,
  urlLength: 512,
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
  /** 64 clients, up to 5 servers and 3 Sentinels, each named once, plus a few group selectors. */
  partitionGroups: 16,
  partitionSelectors: 80,
  /** One per system and fencing: seven systems. */
  expect: 14,
  schemaLength: 2048,
} as const;

// scenarios/loader.ts says "required field is missing" itself, with the words after "must be".
const notANumber = (what: string) => `${what} must be a number of milliseconds`;
/** A duration in ms, 0..max, with messages that name the field. */
export const ms = (what: string, max: number) =>
  z
    .number({ error: notANumber(what) })
    .nonnegative({ error: `${what} must be >= 0` })
    .max(max, { error: `${what} must be <= ${max}` });
/**
 * A duration a run draws afresh at each use: a number of ms, `{ uniform: [min, max] }` (whole ms)
 * or `{ exponential: { meanMs } }` (cut at ten means); see runner/durations.ts.
 */
export const drawnMs = (what: string, max: number) =>
  z.union(
    [
      ms(what, max),
      z
        .strictObject({ uniform: z.tuple([ms(`${what}.uniform[0]`, max), ms(`${what}.uniform[1]`, max)]) })
        .refine((d) => d.uniform[1] >= d.uniform[0], { error: `${what}.uniform: max must be >= min` })
        .refine((d) => Number.isInteger(d.uniform[0]) && Number.isInteger(d.uniform[1]), {
          error: `${what}.uniform: whole milliseconds`,
        }),
      z.strictObject({ exponential: z.strictObject({ meanMs: positiveMs(`${what}.exponential.meanMs`, max / 10) }) }),
    ],
    { error: `${what}: expected ms, { uniform: [min, max] } or { exponential: { meanMs } }` },
  );

/** A duration in ms, (0, max], with messages that name the field. */
export const positiveMs = (what: string, max: number) =>
  z
    .number({ error: notANumber(what) })
    .positive({ error: `${what} must be > 0` })
    .max(max, { error: `${what} must be <= ${max}` });

/** Who a fault hits. Resolved per system at run time; a selector a system has no node for skips the run. */
export const SELECTOR =
  /^(c[1-9]\d*|server-[1-9]\d*|sentinel-[1-9]\d*|clients|servers|sentinels|holder|elected|leader|majority|minority|one)$/;
export const selector = z.string({ error: 'a selector must be a string' }).regex(SELECTOR, {
  error:
    "expected a selector: c1..cN, server-1..n, sentinel-1..n (redis-sentinel's Sentinels), clients, servers, sentinels, holder, elected (the client that leads, in elections), leader (the servers' leader), majority, minority or one",
});

/** When a fault fires: `at` a time, or `after` an event (the fault schema requires exactly one). */
export const trigger = {
  at: ms('at', LIMITS.durationMs).optional().describe(`ms from the start of the run, at most ${LIMITS.durationMs}`),
  after: z
    .strictObject({
      event: z
        .enum(['acquired', 'elected', 'acquiring', 'writing'], {
          error: "expected 'acquired', 'elected', 'acquiring' or 'writing'",
        })
        .describe(
          'acquired or elected: just after a grant; acquiring: while a client acquires (its request sent, no answer yet); writing: just before a mutex client sends its write (after a careful client checked its lock)',
        ),
      client: selector.optional().describe('whose event; default: any client'),
      nth: z
        .number()
        .int({ error: 'nth must be a whole number' })
        .min(1, { error: 'nth must be >= 1' })
        .max(LIMITS.nth, { error: `nth must be <= ${LIMITS.nth}` })
        .default(1)
        .describe(`1..${LIMITS.nth}`),
      waitMs: ms('waitMs', LIMITS.durationMs)
        .default(0)
        .describe(`fire this long after the event, at most ${LIMITS.durationMs} ms`),
    })
    .optional()
    .describe('fire just after the nth matching event'),
};

/** The trigger of a parsed fault. */
export type Trigger = z.output<z.ZodObject<typeof trigger>>;

/** Heal after this long: shared by every kind that heals after a time, so the format has one forMs. */
export const forMs = positiveMs('forMs', LIMITS.durationMs)
  .optional()
  .describe(`heal after this long (at most ${LIMITS.durationMs}); default: at the end of the run`);
