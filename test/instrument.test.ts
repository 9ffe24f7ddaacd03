/** The timed store (src/store/instrument.ts) keeps every member of a store, whether it is an object of functions or a class instance. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionStore } from '../src/store/contract.js';
import { instrumentStore, type StepObserver } from '../src/store/instrument.js';
import { createMemoryStore } from '../src/store/memory/index.js';

class CountingStore {
  readonly kind = 'counting';
  calls = 0;
  async ping(): Promise<void> { this.calls++; }
  getSession(id: string): Promise<null> { this.calls++; return id === 'boom' ? Promise.reject(new Error('boom')) : Promise.resolve(null); }
  close(): void { this.calls = -1; }
}

test('a class-based store keeps its methods, its this and its fields; each step is observed, a failing one too', async () => {
  const inner = new CountingStore();
  const seen: string[] = [];
  let observer: StepObserver | null = null;
  const store = instrumentStore(inner as unknown as SessionStore, () => observer);
  await store.ping();
  assert.equal(seen.length, 0, 'no observer: nothing observed');
  observer = (step, seconds) => { assert.ok(seconds >= 0); seen.push(step); };
  await store.ping();
  assert.equal(await store.getSession('x'), null);
  await assert.rejects(store.getSession('boom'), /boom/);
  assert.equal(inner.calls, 4, 'the methods ran on the store itself');
  assert.deepEqual(seen, ['ping', 'getSession', 'getSession']);
  assert.equal(store.kind, 'counting');
  store.close();
  assert.equal(inner.calls, -1, 'close is passed through, not timed');
  assert.deepEqual(seen, ['ping', 'getSession', 'getSession']);
});

test('an engine (an object of functions) is timed step by step and answers as it does', async () => {
  const seen: string[] = [];
  const store = instrumentStore(createMemoryStore(), () => (step) => seen.push(step));
  assert.equal(store.kind, 'memory');
  assert.equal(await store.getSession('AAAAAAAAAAAAAAAAAAAAAA'), null);
  assert.deepEqual(seen, ['getSession']);
  await store.close();
});
