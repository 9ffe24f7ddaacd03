/** The key material rules of src/core: the derivation of a rotated key and the classification of a presented one. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveKey, hashKey, newSalt, newSessionKey } from '../src/core/keys.js';
import { checkKey, REMEMBERED_KEYS, rotated, type KeyState } from '../src/core/session.js';

test('deriveKey is HMAC-SHA256(previous key, salt), for keys shorter and longer than a SHA-256 block', () => {
  for (let i = 0; i < 300; i++) {
    const key = i % 3 === 0 ? randomBytes(40 + i).toString('base64url') : newSessionKey();
    const salt = newSalt();
    assert.equal(deriveKey(key, salt), createHmac('sha256', key).update(salt).digest('base64url'), `key of ${key.length} bytes`);
  }
});

test('checkKey tells the current key, the one just replaced (in grace), older ones (replayed) and strangers apart', () => {
  const keys = [newSessionKey()];
  let state: KeyState = { keyHash: hashKey(keys[0]), superseded: Buffer.alloc(0), graceUntil: 0, graceSalt: null };
  for (let i = 1; i <= 20; i++) {
    const salt = newSalt();
    keys.push(deriveKey(keys[i - 1], salt));
    state = rotated(state, { keyHash: hashKey(keys[i]), salt }, 1_000);
  }
  assert.equal(state.superseded.length, REMEMBERED_KEYS * 32, 'at most REMEMBERED_KEYS superseded hashes are kept');
  assert.equal(checkKey(state, hashKey(keys[20]), 500), 'current');
  assert.equal(checkKey(state, hashKey(keys[19]), 500), 'grace');
  assert.equal(checkKey(state, hashKey(keys[19]), 1_000), 'replayed', 'the grace window has closed');
  assert.equal(checkKey(state, hashKey(keys[20 - REMEMBERED_KEYS]), 500), 'replayed', 'the oldest remembered key');
  assert.equal(checkKey(state, hashKey(keys[19 - REMEMBERED_KEYS]), 500), 'unknown', 'forgotten: too old');
  assert.equal(checkKey(state, hashKey(newSessionKey()), 500), 'unknown');
});
