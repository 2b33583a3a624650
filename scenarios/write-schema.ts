/** npm run schema: regenerate scenarios/scenario.schema.json after changing schema.ts. */
import { writeFileSync } from 'node:fs';
import { SCHEMA_FILE, scenarioJsonSchema } from './json-schema.ts';

writeFileSync(SCHEMA_FILE, scenarioJsonSchema());
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
