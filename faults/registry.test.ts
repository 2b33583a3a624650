/**
 * The registry is the one list of fault kinds: the schema, `check`'s search space and the report
 * read it, and no other production file keeps a list of its own.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scenarioJsonSchema } from '../scenarios/json-schema.ts';
import { faultSchema, selectorsOf } from '../scenarios/schema.ts';
import { scenarioArbitrary } from '../runner/search.ts';
import { FAULT_KIND_NAMES, FAULT_KINDS, kindOf, kindOfLabel } from './index.ts';

describe('the fault kind registry', () => {
  it('names the kinds the scenario format accepts, and the JSON Schema shows editors', () => {
    const refused = faultSchema.safeParse({ at: 1 });
    assert.equal(
      refused.error?.issues[0]?.message,
      `a fault takes exactly one kind (${FAULT_KIND_NAMES.join(', ')}), got none`,
    );
    const schema = JSON.parse(scenarioJsonSchema()) as {
      properties: { faults: { items: { properties: Record<string, unknown> } } };
    };
    const fault = schema.properties.faults.items;
    for (const name of FAULT_KIND_NAMES) assert.ok(name in fault.properties, `the JSON Schema lacks ${name}`);
  });

  it("is what check's search space draws: every kind, and no other", () => {
    const space = {
      system: 'etcd',
      fencing: false,
      servers: 3,
      hasLeader: true,
      sentinels: 0,
      durationMs: 5000,
      swarm: false,
      diskless: false,
    } as const;
    const drawn = new Set(
      fc
        .sample(scenarioArbitrary(space), { seed: 1, numRuns: 300 })
        .flatMap((s) => s.faults.map((f) => kindOf(f).name)),
    );
    assert.deepEqual([...drawn].sort(), [...FAULT_KIND_NAMES].sort());
  });

  it('gives every kind its own report colour, found from the label the planner writes', () => {
    assert.equal(new Set(FAULT_KINDS.map((k) => k.color)).size, FAULT_KINDS.length);
    assert.equal(kindOfLabel('partition isolate holder (drop)')?.name, 'partition');
    assert.equal(kindOfLabel('fault 3'), undefined);
  });

  it("lists a fault's selectors: its kind's, then its trigger's", () => {
    const fault = faultSchema.parse({
      after: { event: 'acquired', client: 'c2' },
      partition: { groups: [['c1'], ['servers', 'leader']] },
    });
    assert.deepEqual(selectorsOf(fault), ['c1', 'servers', 'leader', 'c2']);
  });

  it('is the only production file that lists every kind by name', () => {
    const listing = productionFiles(ROOT).filter((file) => {
      const text = readFileSync(file, 'utf8');
      return FAULT_KIND_NAMES.every((name) => text.includes(`'${name}'`));
    });
    assert.deepEqual(listing, []);
  });
});

const ROOT = join(import.meta.dirname, '..');

/** The TypeScript sources outside tests, node_modules and the registry itself. */
function productionFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', 'tools', '.git', 'test'].includes(name) || path === join(ROOT, 'faults')) return [];
    if (statSync(path).isDirectory()) return productionFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}
