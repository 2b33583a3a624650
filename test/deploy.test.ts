/**
 * deploy/ and the GitHub workflow cannot run here (no Docker engine, no cluster, no runner), so
 * this checks what can be checked offline. Every shell script that invokes lockstep is run as
 * its runner would run it (sh for a pod, bash -eo pipefail for a workflow step), with a stand-in
 * for lockstep that records its arguments, makes what a run leaves under --out, and exits as
 * told: so the shard each index or matrix entry runs, the directories the merge reads, and what
 * each exit code does to a pod or a job are the scripts' real behaviour. Each recorded command
 * line must name a command and options that the real command line lists in its --help. The
 * Dockerfile is read line by line, and the build context that .dockerignore leaves is copied out
 * and runs the image's default work.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { tempDir } from './temp.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'lockstep.js');
const K8S_DIR = join(ROOT, 'deploy', 'k8s');
const WORKFLOW_FILE = join(ROOT, '.github', 'workflows', 'lockstep.yml');
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const DOCKERIGNORE = join(ROOT, '.dockerignore');

// ---------------------------------------------------------------------------------------------
// The real command line, and a stand-in for it.

const helps = new Map<string, string>();

/** `lockstep <command> --help`, once per command. */
function helpOf(command: string): string {
  let help = helps.get(command);
  if (help === undefined) {
    const result = spawnSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8', timeout: 60_000 });
    help = result.stdout + result.stderr;
    helps.set(command, help);
  }
  return help;
}

/** `argv` (command first) names a lockstep command, and every option it passes is one that command lists. */
function assertParses(argv: readonly string[], where: string): void {
  const [command, ...rest] = argv;
  assert.ok(command !== undefined, `${where}: no command`);
  const help = helpOf(command);
  const usage = help.split('\n')[0] ?? '';
  assert.ok(
    usage.startsWith(`Usage: lockstep ${command} `),
    `${where}: lockstep has no '${command}' command (${usage})`,
  );
  const listed = new Set([...help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]));
  for (const option of rest.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0]!))
    assert.ok(listed.has(option), `${where}: 'lockstep ${command}' has no option ${option}`);
}

/** The value after `option` in `argv`. */
function optionValue(argv: readonly string[], option: string): string | undefined {
  const at = argv.indexOf(option);
  return at === -1 ? undefined : argv[at + 1];
}

/** The arguments between the command and its first option. */
function positionals(argv: readonly string[]): string[] {
  const rest = argv.slice(1);
  const firstOption = rest.findIndex((arg) => arg.startsWith('--'));
  return firstOption === -1 ? rest : rest.slice(0, firstOption);
}

const STUB = `#!/bin/sh
# Stands in for lockstep: records its arguments, makes what a run leaves under --out, exits as told.
: > "$STUB_LOG"
for arg in "$@"; do printf '%s\\n' "$arg" >> "$STUB_LOG"; done
out=
previous=
for arg in "$@"; do
  if [ "$previous" = --out ]; then out=$arg; fi
  previous=$arg
done
if [ "\${STUB_RUN_DIRS:-}" = 1 ] && [ -n "$out" ]; then
  mkdir -p "$out/2026-01-01T00-00-00-000Z"
  ln -sfn 2026-01-01T00-00-00-000Z "$out/latest"
fi
sleeper=
trap 'echo TERM >> "$STUB_LOG.signals"; [ -n "$sleeper" ] && kill "$sleeper"; exit 143' TERM
echo started > "$STUB_LOG.started"
if [ -n "\${STUB_SLEEP_S:-}" ]; then
  sleep "$STUB_SLEEP_S" &
  sleeper=$!
  wait "$sleeper"
fi
exit "\${STUB_EXIT:-0}"
`;

let stubDir: string | undefined;

/** A directory to put first on PATH, where `node` and `npx` are the stand-in. */
function stubBin(): string {
  if (stubDir === undefined) {
    stubDir = tempDir('lockstep-deploy-stub-');
    for (const name of ['node', 'npx']) {
      writeFileSync(join(stubDir, name), STUB);
      chmodSync(join(stubDir, name), 0o755);
    }
  }
  return stubDir;
}

interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The arguments the stand-in got, or null when it was not called. */
  readonly argv: string[] | null;
  /** What the script wrote to $GITHUB_OUTPUT. */
  readonly outputs: Record<string, string>;
}

/** Runs `shell script` with the stand-in first on PATH, in `cwd`, with `env` added. */
function runScript(shell: readonly string[], script: string, cwd: string, env: Record<string, string>): ScriptRun {
  const log = join(tempDir('lockstep-deploy-log-'), 'argv');
  const outputFile = join(dirname(log), 'github-output');
  writeFileSync(outputFile, '');
  const base = { ...process.env };
  delete base.GITHUB_STEP_SUMMARY;
  const result = spawnSync(shell[0]!, [...shell.slice(1), script], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...base, PATH: `${stubBin()}:${process.env.PATH ?? ''}`, STUB_LOG: log, GITHUB_OUTPUT: outputFile, ...env },
  });
  const argv = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(0, -1) : null;
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, argv, outputs };
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile and its build context.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** The Dockerfile's stages: comments dropped, continued lines joined. */
function dockerStages(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      logical.push(pending + line);
      pending = '';
    }
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...words] = line.split(/\s+/);
    const args = words.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(from, `Dockerfile: FROM ${args}`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `Dockerfile: ${keyword} before the first FROM`);
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = dockerStages(readFileSync(DOCKERFILE, 'utf8'));

/** The stage and the stages it is built on, base first. */
function chain(stage: Stage): Stage[] {
  const parent = stages.find((s) => s.name === stage.base);
  return parent === undefined ? [stage] : [...chain(parent), stage];
}

/** Each instruction of `stage` and its bases, with the working directory it runs in. */
function withWorkdir(stage: Stage): { instruction: Instruction; workdir: string }[] {
  let workdir = '/';
  return chain(stage).flatMap((s) =>
    s.instructions.map((instruction) => {
      if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.args);
      return { instruction, workdir };
    }),
  );
}

/** The image path the whole build context is copied to (`COPY . <dir>`). */
function appDir(stage: Stage): string {
  const copy = withWorkdir(stage).find(
    ({ instruction }) => instruction.keyword === 'COPY' && instruction.args.split(/\s+/)[0] === '.',
  );
  assert.ok(copy, 'Dockerfile: the sources are copied with COPY . <dir>');
  return posix.resolve(copy.workdir, copy.instruction.args.split(/\s+/)[1]!);
}

/** The repository file that `imagePath` is a copy of, through `COPY . <dir>`. */
function repoFileOf(stage: Stage, imagePath: string): string {
  const dir = appDir(stage);
  assert.ok(imagePath.startsWith(`${dir}/`), `${imagePath} is not under ${dir}, where the sources are copied`);
  return imagePath.slice(dir.length + 1);
}

/** The ENTRYPOINT of `stage` (its own or inherited), in exec form. */
function entrypoint(stage: Stage): string[] {
  const last = withWorkdir(stage)
    .map(({ instruction }) => instruction)
    .filter((instruction) => instruction.keyword === 'ENTRYPOINT')
    .at(-1);
  assert.ok(last, 'Dockerfile: an ENTRYPOINT');
  return JSON.parse(last.args) as string[];
}

/** .dockerignore's patterns as Docker matches them (the subset of its syntax used there). */
function dockerignored(): (path: string) => boolean {
  const patterns = readFileSync(DOCKERIGNORE, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const pattern of patterns)
    assert.doesNotMatch(pattern, /^!|[[\]\\]/, `.dockerignore: '${pattern}' uses syntax this test does not emulate`);
  const regexps = patterns.map((pattern) => {
    const body = pattern
      .replace(/^\/+|\/+$/g, '')
      .split(/(\*\*|\*|\?)/)
      .map((part) =>
        part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|]/g, '\\$&'),
      )
      .join('');
    return new RegExp(`^${body}$`);
  });
  // A pattern that matches a directory leaves out everything in it.
  return (path) => {
    const parts = path.split('/');
    return parts.some((_, i) => regexps.some((re) => re.test(parts.slice(0, i + 1).join('/'))));
  };
}

/** Every file Docker would send as the build context of the repository root. */
function buildContext(): string[] {
  const ignored = dockerignored();
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (ignored(path)) return [];
      return entry.isDirectory() ? walk(path) : [path];
    });
  return walk('');
}

// ---------------------------------------------------------------------------------------------
// The Kubernetes manifests.

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  restartPolicy?: string;
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    accessModes?: string[];
    template?: { spec: PodSpec };
  } & Partial<PodSpec>;
}

const manifests: Manifest[] = readdirSync(K8S_DIR)
  .filter((name) => /\.ya?ml$/.test(name))
  .flatMap((name) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, name), 'utf8')).map((doc) => {
      assert.deepEqual(doc.errors, [], `deploy/k8s/${name} parses`);
      return doc.toJS() as Manifest;
    }),
  );

const podSpecs = manifests.flatMap((m) =>
  m.kind === 'Job' ? [m.spec.template!.spec] : m.kind === 'Pod' ? [m.spec as PodSpec] : [],
);
const jobs = manifests.filter((m) => m.kind === 'Job');
const indexedJob = jobs.find((job) => job.spec.completionMode === 'Indexed');
const mergeJob = jobs.find((job) =>
  job.spec.template!.spec.containers.some((c) => c.args?.join(' ').includes(' merge ')),
);

/** The lockstep container of a Job: its shell script, its environment, and where the shared volume is mounted. */
function lockstepContainer(job: Manifest) {
  const pod = job.spec.template!.spec;
  const container = pod.containers.find((c) => c.name === 'lockstep');
  assert.ok(container, `${job.metadata.name}: a container named lockstep`);
  assert.deepEqual(container.command, ['/bin/sh', '-c'], `${job.metadata.name}: a shell script`);
  assert.equal(container.args?.length, 1);
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  const mount = container.volumeMounts?.[0];
  assert.ok(mount, `${job.metadata.name}: the shared volume is mounted`);
  const claim = pod.volumes?.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
  assert.ok(claim, `${job.metadata.name}: the mounted volume is a PersistentVolumeClaim`);
  return { container, script: container.args[0]!, env, mountPath: mount.mountPath, claim };
}

/** The script of `job`'s pod, run by its own shell with `env` added. */
function runPod(job: Manifest, env: Record<string, string>): ScriptRun {
  const { container, script, env: own } = lockstepContainer(job);
  return runScript(container.command!, script, tempDir('lockstep-deploy-pod-'), { ...own, ...env });
}

/** Resolves when `condition` holds, checking every 20 ms for at most `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    assert.ok(waited < timeoutMs, `condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---------------------------------------------------------------------------------------------
// The workflow.

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  'continue-on-error'?: boolean | string;
}

interface WorkflowJob {
  needs?: string | string[];
  'continue-on-error'?: boolean | string;
  strategy?: { matrix?: { shard?: number[] } };
  steps: Step[];
}

const workflow = parse(readFileSync(WORKFLOW_FILE, 'utf8')) as { jobs: Record<string, WorkflowJob> };
const LOCKSTEP = /\bnpx lockstep\b|\bnode \S*bin\/lockstep\.js\b/;
const MATRIX_SHARD = /\$\{\{\s*matrix\.shard\s*\}\}/g;

const [shardJobId, shardJob] = Object.entries(workflow.jobs).find(([, job]) => job.strategy?.matrix?.shard) ?? [];
const [mergeJobId, mergeJobOfWorkflow] =
  Object.entries(workflow.jobs).find(([, job]) => job.steps.some((s) => /lockstep merge\b/.test(s.run ?? ''))) ?? [];

/** The one step of `job` whose script runs lockstep. */
function lockstepStep(job: WorkflowJob): Step {
  const steps = job.steps.filter((step) => LOCKSTEP.test(step.run ?? ''));
  assert.equal(steps.length, 1, 'one step runs lockstep');
  return steps[0]!;
}

/** `step`'s script for matrix entry `shard`, run as a GitHub runner runs it (bash -eo pipefail), in `cwd`. */
function runStep(step: Step, shard: number | null, cwd: string, env: Record<string, string>): ScriptRun {
  const script = shard === null ? step.run! : step.run!.replace(MATRIX_SHARD, String(shard));
  assert.doesNotMatch(script, /\$\{\{/, 'a script holds no expression but matrix.shard');
  return runScript(['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'], script, cwd, env);
}

/** `${{ steps.<id>.outputs.<name> }}` */
const stepOutput = (id: string | undefined, name: string) => `\${{ steps.${String(id)}.outputs.${name} }}`;

/** An artifact name pattern as download-artifact matches it. */
const artifactPattern = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The shard count N in `--shard I/N`. */
function shardCount(argv: readonly string[]): number {
  return Number(optionValue(argv, '--shard')?.split('/')[1]);
}

// ---------------------------------------------------------------------------------------------

describe('deploy/Dockerfile', () => {
  const [sim] = stages;
  const final = stages.at(-1)!;
  const context = new Set(buildContext());

  it('builds on Node 20, installs with npm ci from the lockfile, and runs bin/lockstep.js', () => {
    assert.ok(sim);
    assert.match(sim.base, /^node:20(?:[.-]|$)/);
    const install = sim.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    const lockfile = sim.instructions.findIndex((i) => i.keyword === 'COPY' && /\bpackage-lock\.json\b/.test(i.args));
    assert.ok(lockfile >= 0 && install > lockfile, 'npm ci runs after the lockfile is copied');
    const [program, script, ...rest] = entrypoint(final);
    assert.equal(program, 'node');
    assert.deepEqual(rest, []);
    assert.equal(repoFileOf(final, script!), 'bin/lockstep.js');
  });

  it('copies only files that exist in the repository and are in the build context', () => {
    for (const stage of stages)
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file in the repository`);
          assert.ok(source === '.' || context.has(source), `COPY ${source}: left out by .dockerignore`);
        }
      }
  });

  it('has a live target that runs scripts/install-servers.sh, and builds the simulator image by default', () => {
    const live = stages.find((stage) => stage.name === 'live');
    assert.ok(live, 'a stage named live');
    const install = live.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('install-servers.sh'));
    assert.ok(install, 'the live stage runs install-servers.sh');
    const path = /(\S*install-servers\.sh)/.exec(install.args)![1]!;
    assert.equal(repoFileOf(live, path), 'scripts/install-servers.sh');
    assert.ok(/\bgolang-go\b/.test(install.args), 'Go is there for the script to build Toxiproxy');
    assert.ok(chain(live).includes(sim!), 'the live image is the simulator image plus the servers');
    assert.ok(!chain(final).includes(live), 'no --target builds the simulator image, not the live one');
  });

  it('leaves node_modules, runs/ and tools/ out of the build context', () => {
    for (const path of context) assert.doesNotMatch(path, /^(node_modules|runs|tools|\.git)\//);
  });

  it('sends a build context that runs the library, with the packages npm ci installs', () => {
    const image = tempDir('lockstep-deploy-image-');
    for (const path of context) cpSync(join(ROOT, path), join(image, path));
    symlinkSync(join(ROOT, 'node_modules'), join(image, 'node_modules'));
    const data = tempDir('lockstep-deploy-data-');
    const result = spawnSync(
      process.execPath,
      [join(image, 'bin', 'lockstep.js'), 'run', '--systems', 'redis', '--fencing', 'on'],
      { cwd: data, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.ok(
      existsSync(join(data, 'runs', 'latest', 'results.json')),
      'the run directory is under the working directory',
    );
  });
});

describe('deploy/k8s', () => {
  it('parses, with one PersistentVolumeClaim, ReadWriteMany, that every pod mounts', () => {
    const claims = manifests.filter((m) => m.kind === 'PersistentVolumeClaim');
    assert.equal(claims.length, 1);
    assert.deepEqual(claims[0]!.spec.accessModes, ['ReadWriteMany']);
    for (const pod of podSpecs) {
      const names = (pod.volumes ?? []).flatMap((v) =>
        v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
      );
      assert.deepEqual(names, [claims[0]!.metadata.name]);
    }
  });

  it('runs every pod from one image, whose entry point the Jobs call', () => {
    const images = new Set(podSpecs.flatMap((pod) => pod.containers.map((c) => c.image)));
    assert.equal(images.size, 1, [...images].join(', '));
    for (const job of jobs) {
      const { argv } = runPod(job, { JOB_COMPLETION_INDEX: '0' });
      assert.deepEqual(['node', argv![0]], entrypoint(stages.at(-1)!), `${job.metadata.name} runs the image's CLI`);
    }
  });

  it('has an Indexed Job whose index I runs --shard I+1/N of `run`, N being its completions, each into its own directory', () => {
    assert.ok(indexedJob, 'an Indexed Job');
    const n = indexedJob.spec.completions!;
    assert.ok(Number.isInteger(n) && n >= 2, `completions: ${n}`);
    assert.ok(indexedJob.spec.parallelism! >= 1 && indexedJob.spec.parallelism! <= n);
    assert.equal(indexedJob.spec.template!.spec.restartPolicy, 'Never');
    const { mountPath } = lockstepContainer(indexedJob);
    for (let index = 0; index < n; index++) {
      const { code, argv } = runPod(indexedJob, { JOB_COMPLETION_INDEX: String(index) });
      assert.equal(code, 0);
      const command = argv!.slice(1);
      assert.equal(command[0], 'run');
      assert.equal(optionValue(command, '--shard'), `${index + 1}/${n}`);
      assert.equal(optionValue(command, '--out'), `${mountPath}/shard-${index + 1}`);
      assertParses(command, `${indexedJob.metadata.name}, index ${index}`);
    }
  });

  it("counts a shard's failed expectation (exit 1) as a completed pod, and fails the pod on a usage or environment error", () => {
    assert.ok(indexedJob);
    for (const [cli, pod] of [
      [0, 0],
      [1, 0],
      [2, 2],
      [3, 3],
    ] as const)
      assert.equal(
        runPod(indexedJob, { JOB_COMPLETION_INDEX: '0', STUB_EXIT: String(cli) }).code,
        pod,
        `lockstep exits ${cli}`,
      );
  });

  it('passes SIGTERM on to lockstep and exits with its code', async () => {
    assert.ok(indexedJob);
    const { container, script, env } = lockstepContainer(indexedJob);
    const log = join(tempDir('lockstep-deploy-term-'), 'argv');
    const child = spawn(container.command![0]!, [container.command![1]!, script], {
      env: {
        ...process.env,
        ...env,
        PATH: `${stubBin()}:${process.env.PATH ?? ''}`,
        STUB_LOG: log,
        STUB_SLEEP_S: '30',
        JOB_COMPLETION_INDEX: '0',
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => existsSync(`${log}.started`), 10_000);
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.equal(readFileSync(`${log}.signals`, 'utf8'), 'TERM\n');
  });

  it('merges, after the shards, every shard directory of the same volume, with a JUnit file and the Markdown table', () => {
    assert.ok(indexedJob && mergeJob, 'a merge Job');
    assert.notEqual(mergeJob.spec.completionMode, 'Indexed');
    const shards = lockstepContainer(indexedJob);
    const merge = lockstepContainer(mergeJob);
    assert.equal(merge.claim, shards.claim, 'the merge reads the volume the shards wrote');
    const { code, argv } = runPod(mergeJob, {});
    assert.equal(code, 0);
    const command = argv!.slice(1);
    assert.equal(command[0], 'merge');
    const n = indexedJob.spec.completions!;
    const written = Array.from({ length: n }, (_, i) => `${shards.mountPath}/shard-${i + 1}/latest`);
    assert.deepEqual(
      positionals(command),
      written.map((path) => path.replace(shards.mountPath, merge.mountPath)),
    );
    for (const option of ['--out', '--junit', '--summary-md']) assert.ok(optionValue(command, option), option);
    assertParses(command, mergeJob.metadata.name);
  });

  it('fails the merge Job, without retrying it, when lockstep merge exits non-zero', () => {
    assert.ok(mergeJob);
    assert.equal(mergeJob.spec.backoffLimit, 0);
    for (const code of [1, 2, 3]) assert.equal(runPod(mergeJob, { STUB_EXIT: String(code) }).code, code);
  });
});

describe('.github/workflows/lockstep.yml', () => {
  it('runs a matrix of shards 1..N, each with --shard I/N of `run`, in a directory of its own', () => {
    assert.ok(shardJob, 'a job with a matrix of shards');
    const matrix = shardJob.strategy!.matrix!.shard!;
    const step = lockstepStep(shardJob);
    for (const shard of matrix) {
      const { code, argv } = runStep(step, shard, tempDir('lockstep-deploy-ws-'), { STUB_RUN_DIRS: '1' });
      assert.equal(code, 0);
      const command = argv!.slice(1);
      assert.equal(command[0], 'run');
      const n = shardCount(command);
      assert.deepEqual(
        matrix,
        Array.from({ length: n }, (_, i) => i + 1),
      );
      assert.equal(optionValue(command, '--shard'), `${shard}/${n}`);
      assert.ok(optionValue(command, '--junit'), '--junit');
      assertParses(command, `${String(shardJobId)}, shard ${shard}`);
    }
  });

  it('passes a shard whose expectation failed (exit 1) to the merge, and fails on a usage or environment error', () => {
    assert.ok(shardJob);
    const step = lockstepStep(shardJob);
    assert.ok(!step['continue-on-error'] && !shardJob['continue-on-error'], 'errors are not ignored wholesale');
    for (const [cli, result] of [
      [0, 0],
      [1, 0],
      [2, 2],
      [3, 3],
    ] as const) {
      const { code } = runStep(step, 1, tempDir('lockstep-deploy-ws-'), { STUB_RUN_DIRS: '1', STUB_EXIT: String(cli) });
      assert.equal(code, result, `lockstep exits ${cli}`);
    }
  });

  it('uploads the directory each shard ran into (not the latest link) as an artifact the merge job downloads', () => {
    assert.ok(shardJob && mergeJobOfWorkflow);
    const step = lockstepStep(shardJob);
    const upload = shardJob.steps.find(
      (s) => s.uses === 'actions/upload-artifact@v4' && s.with?.path === stepOutput(step.id, 'dir'),
    );
    assert.ok(upload, `an upload-artifact@v4 step of ${stepOutput(step.id, 'dir')}`);
    const download = mergeJobOfWorkflow.steps.find((s) => s.uses === 'actions/download-artifact@v4');
    assert.ok(download, 'the merge job downloads the artifacts');
    assert.equal(download.with?.['merge-multiple'], false, 'each shard in a directory of its own');
    const pattern = artifactPattern(String(download.with.pattern));
    const artifactNames = shardJob.steps
      .filter((s) => s.uses === 'actions/upload-artifact@v4')
      .map((s) => String(s.with?.name));
    for (const shard of shardJob.strategy!.matrix!.shard!) {
      const ws = tempDir('lockstep-deploy-ws-');
      const { argv, outputs } = runStep(step, shard, ws, { STUB_RUN_DIRS: '1', STUB_EXIT: '1' });
      const out = optionValue(argv!.slice(1), '--out')!;
      assert.equal(outputs.dir, realpathSync(join(ws, out, 'latest')), 'the directory latest points at');
      const names = artifactNames.map((name) => name.replace(MATRIX_SHARD, String(shard)));
      assert.deepEqual(
        names.filter((name) => pattern.test(name)),
        [String(upload.with!.name).replace(MATRIX_SHARD, String(shard))],
        'the download takes the run directory and nothing else',
      );
    }
  });

  it('merges every downloaded shard with --junit and --summary-md, in a job that needs the shards', () => {
    assert.ok(shardJob && mergeJobOfWorkflow);
    const needs = [mergeJobOfWorkflow.needs ?? []].flat();
    assert.ok(needs.includes(shardJobId!), `the merge job needs ${String(shardJobId)}`);
    const download = mergeJobOfWorkflow.steps.find((s) => s.uses === 'actions/download-artifact@v4')!;
    const ws = tempDir('lockstep-deploy-ws-');
    const upload = shardJob.steps.find((s) => s.with?.path === stepOutput(lockstepStep(shardJob).id, 'dir'))!;
    const downloaded = shardJob.strategy!.matrix!.shard!.map((shard) =>
      posix.join(String(download.with!.path), String(upload.with!.name).replace(MATRIX_SHARD, String(shard))),
    );
    for (const dir of downloaded) mkdirSync(join(ws, dir), { recursive: true });
    const { code, argv } = runStep(lockstepStep(mergeJobOfWorkflow), null, ws, { STUB_RUN_DIRS: '1' });
    assert.equal(code, 0);
    const command = argv!.slice(1);
    assert.equal(command[0], 'merge');
    assert.deepEqual([...positionals(command)].sort(), [...downloaded].sort());
    for (const option of ['--out', '--junit', '--summary-md']) assert.ok(optionValue(command, option), option);
    assertParses(command, String(mergeJobId));
  });

  it('fails the workflow in the merge step when lockstep merge exits non-zero, and still uploads the report', () => {
    assert.ok(mergeJobOfWorkflow);
    const step = lockstepStep(mergeJobOfWorkflow);
    assert.ok(
      !step['continue-on-error'] && !mergeJobOfWorkflow['continue-on-error'],
      'the merge is not continue-on-error',
    );
    for (const cli of [0, 1, 2, 3]) {
      const ws = tempDir('lockstep-deploy-ws-');
      const { code, outputs } = runStep(step, null, ws, { STUB_RUN_DIRS: '1', STUB_EXIT: String(cli) });
      assert.equal(code, cli, `lockstep merge exits ${cli}`);
      assert.ok(outputs.dir?.startsWith(realpathSync(ws)), 'the merged directory is named for the upload');
    }
    const after = mergeJobOfWorkflow.steps.slice(mergeJobOfWorkflow.steps.indexOf(step) + 1);
    const report = after.find(
      (s) => s.uses === 'actions/upload-artifact@v4' && s.with?.path === stepOutput(step.id, 'dir'),
    );
    assert.ok(report, 'the merged run directory is uploaded');
    assert.match(report.if ?? '', /\balways\(\)/, 'also when the merge failed');
  });

  it('sets up Node 20 and runs npm ci before lockstep in every job', () => {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const setup = job.steps.findIndex((s) => s.uses === 'actions/setup-node@v4');
      assert.ok(setup >= 0, `${id}: actions/setup-node@v4`);
      assert.equal(String(job.steps[setup]!.with?.['node-version']), '20');
      const install = job.steps.findIndex((s) => /^npm ci\b/.test(s.run ?? ''));
      assert.ok(install > setup && install < job.steps.indexOf(lockstepStep(job)), `${id}: npm ci, then lockstep`);
    }
  });
});

describe('command lines in deploy/ and the workflow', () => {
  it('are all among the scripts run above: no other script invokes lockstep', () => {
    const scripts = [
      ...Object.values(workflow.jobs).flatMap((job) => job.steps.map((s) => s.run ?? '')),
      ...podSpecs.flatMap((pod) => pod.containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])])),
    ].filter((text) => LOCKSTEP.test(text) || text.includes('lockstep.js'));
    const checked = [
      ...[shardJob, mergeJobOfWorkflow].map((job) => (job ? lockstepStep(job).run : undefined)),
      ...jobs.map((job) => lockstepContainer(job).script),
    ];
    assert.deepEqual(scripts.sort(), checked.sort());
  });
});
