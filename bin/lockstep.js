#!/usr/bin/env node
// Entry point: load TypeScript sources through tsx, then hand over to the command line.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
