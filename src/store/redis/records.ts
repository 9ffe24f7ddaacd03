import { TesseraError } from '../../core/errors.js';
import { checkDelete, planWrite } from '../../core/records.js';
import type { RecordKind, RecordWrite, SessionStore, StoredRecord } from '../contract.js';
import type { RedisConnection, Reply } from './client.js';
import { decodeRecord, writeArgs, writtenRecord } from './codec.js';

export type RedisRecordSteps = Pick<SessionStore, 'putRecord' | 'getRecord' | 'listRecords' | 'deleteRecord' | 'touchRecords'>;

function fail(res: Reply): void {
  if (res?.[0] === 'invalid') throw new TesseraError('SESSION_INVALID');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Records of the Redis engine: one script per step on the session's keys
 * (lua/records/), each record name a hash `r:<name>` entry key -> encoded
 * record (codec.ts), `rn` counting live entries per name and `rx` scheduling
 * the entries that expire. The scripts check the rules of core/records.ts;
 * when one refuses it answers the state it saw and the same pure function
 * throws the same error as on the other engines.
 */
export function redisRecords(r: RedisConnection): RedisRecordSteps {
  const sk = (id: string) => r.sessionKey(id);

  async function readRecords(sessionId: string, name: string): Promise<StoredRecord[]> {
    const res = await r.run('records/read', [sk(sessionId)], [r.now(), name]);
    fail(res);
    const out: StoredRecord[] = [];
    for (let i = 1; i < res.length; i += 3) out.push(decodeRecord(res[i], res[i + 1], res[i + 2]));
    return out.sort((a, b) => cmp(a.name, b.name) || cmp(a.key ?? '', b.key ?? ''));
  }

  return {
    async putRecord(sessionId: string, w: RecordWrite) {
      const res = await r.run('records/put', [sk(sessionId)], [r.now(), ...writeArgs(w)]);
      fail(res);
      if (res[0] === 'reject') {
        planWrite(w, {
          liveKind: (res[1] || null) as RecordKind | null, currentVersion: Number(res[2]), liveEntries: Number(res[3]), liveRecords: Number(res[4]),
          currentBytes: Number(res[5]), liveBytes: () => Number(res[6]),
        });
        throw new Error('redis: a refused write passed the rules'); // unreachable: the script and planWrite agree
      }
      return writtenRecord(w, res, 0);
    },

    async getRecord(sessionId, name) {
      return readRecords(sessionId, name);
    },

    async listRecords(sessionId) {
      return readRecords(sessionId, '');
    },

    async deleteRecord(sessionId, name, key, ifVersion) {
      const res = await r.run('records/delete', [sk(sessionId)], [r.now(), name, key ?? '', ifVersion ?? '']);
      fail(res);
      if (res[0] === 'reject') {
        checkDelete(ifVersion, { kind: res[1], version: Number(res[2]) }, key === null);
        throw new Error('redis: a refused delete passed the rules');
      }
      return Number(res[1]) === 1;
    },

    async touchRecords(sessionId) {
      fail(await r.run('records/touch', [sk(sessionId)], [r.now()]));
    },
  };
}
