/** The JSON Schemas of results.json and of a history line, generated from the zod contract so the two cannot drift apart. */
import { z } from 'zod';
import { historyLineSchema, resultsFileSchema } from './results.ts';
import { compareFileSchema } from './compare-file.ts';

export const RESULTS_SCHEMA_FILE = 'runner/results.schema.json';
export const HISTORY_LINE_SCHEMA_FILE = 'runner/history-line.schema.json';
export const COMPARE_SCHEMA_FILE = 'runner/compare.schema.json';

function jsonSchema(schema: z.ZodType, title: string): string {
  return `${JSON.stringify({ ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), title }, null, 2)}\n`;
}

export function resultsJsonSchema(): string {
  return jsonSchema(resultsFileSchema, 'lockstep results.json');
}

export function historyLineJsonSchema(): string {
  return jsonSchema(historyLineSchema, 'lockstep history line');
}

export function compareJsonSchema(): string {
  return jsonSchema(compareFileSchema, 'lockstep compare.json');
}
