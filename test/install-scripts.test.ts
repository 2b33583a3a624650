/**
 * `npm ci` runs a dependency's install script only if package.json's allowScripts approves it, and
 * warns about every one it has no decision for. Each is decided: esbuild's runs (it checks, and
 * if need be fetches, the native binary tsx compiles every file with); protobufjs's (a version
 * notice) and ssh2's and cpu-features' (optional native builds, for Docker over SSH in
 * testcontainers, which works without them) do not.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const read = (file: string): unknown =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../${file}`, import.meta.url)), 'utf8'));

const manifest = read('package.json') as { allowScripts?: Record<string, boolean> };
const lock = read('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };

/** The packages the lockfile says have an install script, by name. */
function withInstallScripts(): string[] {
  const names = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript === true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  return [...new Set(names)].sort();
}

describe('install scripts', () => {
  it('has a decision in allowScripts for every dependency with an install script, so npm ci warns of none', () => {
    const decided = Object.keys(manifest.allowScripts ?? {}).map((key) => key.replace(/(?<=.)@.*$/, ''));
    const undecided = withInstallScripts().filter((name) => !decided.includes(name));
    assert.deepEqual(undecided, [], 'add each to allowScripts: npm install-scripts approve|deny NAME');
  });

  it("runs esbuild's and no other", () => {
    const approved = Object.entries(manifest.allowScripts ?? {}).filter(([, allowed]) => allowed);
    assert.deepEqual(approved, [['esbuild', true]]);
  });
});
