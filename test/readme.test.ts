/**
 * The README's tour, pasted as a person would: every ```sh block of
 * README.md, in order, run by one bash against a real `tessera serve`, with
 * a pause between steps longer than the grace window, and each answer checked
 * against the shape the README shows under the command.
 *
 * - Blocks preceded by `<!-- readme-test: skip (why) -->` are not run (they
 *   install, start a server, or ask for a password). The tour's config is the
 *   JSON of the skipped block that writes `tour.json`; the server gets it with
 *   a SHORT grace window, `session.graceWindow: 1` (1 s), and the test pauses
 *   PAUSE_MS = 1.5 s before every step that sends a key, so that a step which
 *   sent a key already replaced would be a replay (401), as at human pace
 *   against the default 10 s window, and the test still takes seconds, not minutes.
 * - `localhost:8080` in the commands becomes the test server's address.
 * - A step is a command (with its `\` continuations, or a `for ... done`
 *   loop) and the `# ...` lines right under it: the answer it shows. The
 *   check: the status line, each header shown (present; its value where it
 *   has no `…` and is not a time), and the JSON body's shape: the same keys,
 *   the same values, except that a string with `…` stands for any string and
 *   a time for any time. Every answer of every step must be 2xx, unless the
 *   README shows another status.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULTS, resolveConfig } from '../src/core/config.js';
import { Tessera } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';
import { tempDir } from './helpers/harness.js';
import { startServe } from './helpers/process.js';

const PAUSE_MS = 1500;
const GRACE_S = 1;

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

interface Block { code: string; skip: boolean; line: number }
interface Step { command: string; expected: string[]; line: number }

/** The ```sh blocks of the README, with whether a skip comment precedes each. */
function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const start = i;
    const body: string[] = [];
    for (i++; lines[i] !== '```'; i++) body.push(lines[i]);
    blocks.push({ code: body.join('\n'), skip: /^<!-- readme-test: skip/.test(lines[start - 1] ?? ''), line: start + 2 });
  }
  return blocks;
}

/** A block's steps: each command and the `#` lines right under it. */
function steps(block: Block): Step[] {
  const out: Step[] = [];
  const lines = block.code.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '' || line.startsWith('#')) { i++; continue; } // blank, or a comment before a command
    const at = block.line + i;
    const command: string[] = [line];
    let loop = /^(for|while) /.test(line);
    while (i + 1 < lines.length && (command.at(-1)!.endsWith('\\') || loop)) {
      i++;
      command.push(lines[i]);
      if (/^done\b/.test(lines[i])) loop = false;
    }
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i].startsWith('#')) expected.push(lines[i++].replace(/^# ?/, ''));
    out.push({ command: command.join('\n'), expected, line: at });
  }
  return out;
}

/** One bash for the whole tour, as one terminal: variables carry from step to step. */
function shell(cwd: string) {
  const bash = spawn('bash', ['--noprofile', '--norc'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: cwd, LANG: 'C' } });
  let out = '';
  let err = '';
  bash.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  bash.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  let n = 0;
  return {
    async run(command: string): Promise<{ stdout: string; stderr: string; status: number }> {
      const marker = `__step_${++n}_done__`;
      out = '';
      err = '';
      bash.stdin.write(`${command}\nprintf '\\n${marker} %s\\n' "$?"\n`);
      const started = Date.now();
      while (!out.includes(marker)) {
        if (Date.now() - started > 20_000) throw new Error(`step timed out: ${command}\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const [stdout, rest] = out.split(`\n${marker} `);
      return { stdout, stderr: err, status: Number(rest.trim()) };
    },
    close() { bash.stdin.end(); },
  };
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `actual` has the shape of `expected` (see the top of this file); the path names what differs. */
function sameShape(expected: unknown, actual: unknown, path = 'body'): void {
  if (typeof expected === 'string' && (expected.includes('…') || TIME.test(expected))) {
    assert.equal(typeof actual, 'string', `${path}: a string`);
    if (TIME.test(expected)) assert.match(actual as string, TIME, `${path}: a time`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: an array`);
    assert.equal(actual.length, expected.length, `${path}: ${expected.length} items`);
    expected.forEach((e, i) => sameShape(e, actual[i], `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${path}: an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: its keys`);
    for (const [k, v] of Object.entries(expected)) sameShape(v, (actual as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, path);
}

/** Checks what a step printed against what the README shows under it. */
function check(step: Step, stdout: string): void {
  const where = `README.md line ${step.line}: ${step.command.split('\n')[0]}`;
  const statuses = [...stdout.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1]));
  const shown = step.expected.map((l) => /^HTTP\/[\d.]+ (\d{3})/.exec(l)).filter(Boolean).map((m) => Number(m![1]));
  for (const status of statuses) {
    assert.ok((status >= 200 && status < 300) || shown.includes(status), `${where}: answered ${status}\n${stdout}`);
  }
  if (step.expected.length === 0) return;
  const bodyAt = step.expected.findIndex((l) => /^[{[]/.test(l));
  const head = bodyAt < 0 ? step.expected : step.expected.slice(0, bodyAt);
  if (shown.length > 0) {
    assert.deepEqual(statuses, shown, `${where}: the status`);
    const headers = new Map<string, string>();
    for (const l of stdout.split(/\r?\n/)) {
      const m = /^([A-Za-z-]+): (.*)$/.exec(l);
      if (m) headers.set(m[1].toLowerCase(), m[2]);
    }
    for (const l of head.slice(1)) {
      const m = /^([A-Za-z-]+): (.*)$/.exec(l);
      if (!m) continue;
      const [name, value] = [m[1].toLowerCase(), m[2].trim()];
      assert.ok(headers.has(name), `${where}: the header ${name}\n${stdout}`);
      if (!value.includes('…') && !TIME.test(value)) assert.equal(headers.get(name), value, `${where}: ${name}`);
    }
  }
  if (bodyAt >= 0) {
    const expected = JSON.parse(step.expected.slice(bodyAt).join(''));
    const body = stdout.split(/\r?\n/).filter((l) => l.trim() !== '').at(-1) ?? '';
    let actual: unknown;
    try { actual = JSON.parse(body); } catch { assert.fail(`${where}: the answer is not JSON: ${body}`); }
    try { sameShape(expected, actual); } catch (e) { throw new Error(`${where}: ${(e as Error).message}\n${body}`); }
  }
}

const dir = tempDir();
after(() => dir.remove());

test("the README's shell blocks work when pasted in order at human pace, and answer as shown", async () => {
  const blocks = shellBlocks(README);
  const tourConfig = blocks.find((b) => b.skip && b.code.includes('> tour.json'));
  assert.ok(tourConfig, 'the README writes tour.json');
  const config = JSON.parse(/<<'EOF'\n([\s\S]*?)\nEOF/.exec(tourConfig.code)![1]);
  config.session = { ...config.session, graceWindow: GRACE_S };
  writeFileSync(join(dir.path, 'tour.json'), JSON.stringify(config));

  const server = await startServe(['--config', join(dir.path, 'tour.json'), '--port', '0', '--store', `sqlite:${join(dir.path, 'tour.db')}`], { cwd: dir.path });
  const sh = shell(dir.path);
  let ran = 0;
  try {
    const host = new URL(server.url).host;
    for (const block of blocks.filter((b) => !b.skip)) {
      for (const step of steps(block)) {
        const command = step.command.replaceAll('localhost:8080', host);
        if (command.includes('$KEY')) await new Promise((r) => setTimeout(r, PAUSE_MS)); // longer than the grace window
        const { stdout, stderr, status } = await sh.run(command);
        assert.equal(status, 0, `README.md line ${step.line}: exit ${status}\n${stdout}\n${stderr}`);
        check(step, stdout);
        ran++;
      }
    }
  } finally {
    sh.close();
    await server.stop();
  }
  assert.ok(ran > 20, `ran ${ran} steps`);
  assert.ok(!server.output().includes('SESSION_KEY_REPLAYED') && !/"level":50/.test(server.output()), 'no replay, no error logged');
});

test('the full sample config of docs/configuration.md is valid, every key included', async () => {
  const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  const sample = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(doc)![1]);
  const config = resolveConfig(sample);
  for (const key of Object.keys(DEFAULTS)) assert.ok(key in sample, `the sample shows ${key}`);
  for (const [key, value] of Object.entries(DEFAULTS)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && key !== 'records') {
      for (const k of Object.keys(value)) assert.ok(k in sample[key], `the sample shows ${key}.${k}`);
    }
  }
  const tessera = new Tessera({ config, store: createMemoryStore() }); // compiles the record schemas
  await tessera.close();
});
