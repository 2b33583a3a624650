/** The JSON Schema of scenario files, generated from the zod schema so the two cannot drift apart. */
import { z } from 'zod';
import { scenarioSchema } from './schema.ts';

export const SCHEMA_FILE = 'scenarios/scenario.schema.json';

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'lockstep scenario' }, null, 2)}\n`;
}
