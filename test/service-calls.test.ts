import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionContext } from '../src/service/context.js';
import { using } from './helpers/harness.js';

const client = { id: 'web', roles: ['app'] as const };
const users = [{ name: 'alice', password: 'alice-password-1', roles: ['customer'] }];

/** The service as a program uses it in-process: use cases answer, they do not change the caller's context. */
describe('use cases in-process', () => {
  it('login and logout leave the caller\'s context as it was and answer the new one; withSession answers its key', () => using('memory', { users }, async ({ tessera }) => {
    const created = await tessera.createSession(client);
    let seen: SessionContext | null = null;
    let copy = '';
    const { result, key } = await tessera.withSession(client, created, async (ctx) => {
      seen = ctx;
      copy = JSON.stringify(ctx);
      return tessera.users.login(ctx, { username: 'alice', password: 'alice-password-1' });
    });
    assert.deepEqual(result, { user: { name: 'alice', roles: ['customer'] } });
    assert.equal(JSON.stringify(seen), copy, 'the context given to login is unchanged');
    assert.notEqual(key, seen!.key, 'the key answered is the one login issued');
    const after = await tessera.withSession(client, { id: created.id, key }, async (ctx) => {
      assert.equal(ctx.session.user?.name, 'alice');
      return tessera.users.logout(ctx);
    });
    assert.deepEqual(after.result, { message: 'success' });
    const out = await tessera.withSession(client, { id: created.id, key: after.key }, async (ctx) => tessera.describe(ctx));
    assert.equal(out.result.user, null);
  }));

  it('answers readiness through the service', () => using('memory', {}, async ({ tessera }) => {
    assert.deepEqual(await tessera.ready(), { status: 'ready', store: 'memory' });
  }));
});
