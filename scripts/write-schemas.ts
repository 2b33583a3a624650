/** npm run schema: regenerate the published JSON Schemas after changing scenarios/schema.ts or runner/results.ts. */
import { writeFileSync } from 'node:fs';
import {
  COMPARE_SCHEMA_FILE,
  compareJsonSchema,
  HISTORY_LINE_SCHEMA_FILE,
  historyLineJsonSchema,
  RESULTS_SCHEMA_FILE,
  resultsJsonSchema,
} from '../runner/results-json-schema.ts';
import { SCHEMA_FILE, scenarioJsonSchema } from '../scenarios/json-schema.ts';

for (const [file, text] of [
  [SCHEMA_FILE, scenarioJsonSchema()],
  [RESULTS_SCHEMA_FILE, resultsJsonSchema()],
  [HISTORY_LINE_SCHEMA_FILE, historyLineJsonSchema()],
  [COMPARE_SCHEMA_FILE, compareJsonSchema()],
] as const) {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}
