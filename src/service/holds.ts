import { iso } from '../core/clock.js';
import { invalid, TesseraError } from '../core/errors.js';
import { HOLD_LIST, holdName, holdNames, holdPrefix, MAX_HOLD_LIST } from '../core/holds.js';
import { bodyObject, optionalSeconds, queryLimit } from '../core/input.js';
import { hashKey, newSessionId, newSessionKey } from '../core/keys.js';
import type { SessionInfo } from '../core/session.js';
import type { TesseraConfig } from '../core/config.js';
import type { HoldEventType, SessionContext } from './context.js';
import type { AcquiredHold, PoolUse, SessionStore, StoredClaim, StoredHold } from '../store/contract.js';
import { sweepInBatches } from '../store/sweep.js';

/** A hold as the wire shows it: `resource` for an exclusive hold, `pool` and `quantity` for a pool. */
export interface HoldView {
  resource?: string;
  pool?: string;
  quantity?: number;
  token: number;
  expiresAt: string;
}

export interface ClaimView {
  resource?: string;
  pool?: string;
  quantity?: number;
  token: number;
  confirmedAt: string;
}

export interface AdminHoldView extends HoldView {
  sessionId: string;
}

export interface AdminClaimView extends ClaimView {
  sessionId: string;
}

export interface TransferredSession {
  id: string;
  key: string;
  nextTimeout: string;
}


/** Publishes an event about a session (its id and user), naming a resource. */
export type HoldEmitter = (type: HoldEventType, session: { id: string; user?: SessionInfo['user'] }, resource: string) => void;

/** `?limit=` of an admin listing: 1 to MAX_HOLD_LIST, HOLD_LIST when absent. */
function listLimit(limit: unknown): number {
  return queryLimit(limit, 'limit', MAX_HOLD_LIST, HOLD_LIST);
}

function nameOf(h: { name: string; quantity: number | null }): { resource: string } | { pool: string; quantity: number } {
  return h.quantity === null ? { resource: h.name } : { pool: h.name, quantity: h.quantity };
}

function holdView(h: StoredHold): HoldView {
  return { ...nameOf(h), token: h.token, expiresAt: iso(h.expiresAt) };
}

function claimView(c: StoredClaim): ClaimView {
  return { ...nameOf(c), token: c.token, confirmedAt: iso(c.confirmedAt) };
}

/**
 * docs/protocol.md#holds-and-the-sale and #transfer: holds on seats and pools, the sale, transfer. Each use
 * case checks its input, then asks the store for ONE atomic step; expiry and
 * tokens are decided there, by the store's clock.
 */
export class Holds {
  constructor(
    private readonly store: SessionStore,
    private readonly config: Readonly<TesseraConfig>,
    private readonly emit: HoldEmitter,
    /** Told what each hold step gave (`added`: units asked of a pool), so an open transaction can remember it. */
    private readonly onHeld: (ctx: SessionContext, held: AcquiredHold[], added: number | null) => Promise<void>,
  ) {}

  /** POST /v1/session/holds: `{ resources, ttl? }` or `{ pool, quantity, ttl? }`, all or nothing. */
  async hold(ctx: SessionContext, body: unknown): Promise<{ holds: HoldView[] }> {
    const b = bodyObject(body, ['resources', 'pool', 'quantity', 'ttl']);
    const ttlMs = this.ttl(b);
    const s = ctx.session;
    if ('resources' in b === 'pool' in b) throw invalid("The body needs either 'resources' or 'pool' (with 'quantity').", 'resources');
    let held;
    if ('resources' in b) {
      if ('quantity' in b) throw invalid("'quantity' goes with 'pool', not with 'resources'.", 'quantity');
      held = await this.store.holdResources(s.id, holdNames(b.resources), ttlMs, s.nextTimeout);
    } else {
      const q = b.quantity;
      if (typeof q !== 'number' || !Number.isSafeInteger(q) || q < 1) throw invalid("'quantity' must be a positive whole number.", 'quantity');
      held = [await this.store.holdPool(s.id, holdName(b.pool, 'pool'), q, ttlMs, s.nextTimeout)];
    }
    await this.onHeld(ctx, held, 'pool' in b ? (b.quantity as number) : null);
    for (const h of held) if (h.fresh) this.emit('hold.acquired', s, h.name);
    return { holds: held.map(holdView) };
  }

  /** GET /v1/session/holds: HOLDS_EXPIRED once for what expired since the last read, else the list. */
  async list(ctx: SessionContext): Promise<{ holds: HoldView[]; claims: ClaimView[] }> {
    const { live, expired, claims } = await this.store.readHolds(ctx.session.id);
    for (const h of expired) if (!h.announced) this.emit('hold.expired', ctx.session, h.name);
    if (expired.length > 0) throw new TesseraError('HOLDS_EXPIRED', undefined, { expired: expired.map((h) => h.name) });
    return { holds: live.map(holdView), claims: claims.map(claimView) };
  }

  /** POST /v1/session/holds/renew `{ ttl? }`: extends every live hold. */
  async renew(ctx: SessionContext, body: unknown): Promise<{ holds: HoldView[] }> {
    const ttlMs = this.ttl(bodyObject(body, ['ttl']));
    return { holds: (await this.store.renewHolds(ctx.session.id, ttlMs)).map(holdView) };
  }

  /** DELETE /v1/session/holds/{resource} (one name) or /v1/session/holds (all). */
  async release(ctx: SessionContext, resource?: unknown): Promise<{ released: string[] }> {
    const names = resource === undefined ? null : [holdName(resource)];
    return this.releaseHolds(ctx.session, names);
  }

  /** Releases these holds of a session, or all of them (null; what logout does), and announces each. Pool units return at once. */
  async releaseHolds(session: Pick<SessionInfo, 'id' | 'user'>, names: string[] | null = null): Promise<{ released: string[] }> {
    const released = await this.store.releaseHolds(session.id, names);
    for (const h of released) this.emit('hold.released', session, h.name);
    return { released: released.map((h) => h.name) };
  }

  /** POST /v1/session/holds/confirm `{ resources? }`: the sale, one atomic store step. */
  async confirm(ctx: SessionContext, body: unknown): Promise<{ claims: ClaimView[] }> {
    const b = bodyObject(body, ['resources']);
    const names = b.resources === undefined ? null : holdNames(b.resources);
    const claims = await this.store.confirmHolds(ctx.session.id, names);
    for (const c of claims) this.emit('hold.confirmed', ctx.session, c.name);
    return { claims: claims.map(claimView) };
  }

  /** POST /v1/session/transfer: a new id and key for the same session; the old id is gone. */
  async transfer(ctx: SessionContext): Promise<{ created: TransferredSession; session: SessionInfo }> {
    const id = newSessionId();
    const key = newSessionKey();
    const session = await this.store.transferSession(ctx.session.id, id, hashKey(key));
    if (!session) throw new TesseraError('SESSION_INVALID');
    return { created: { id, key, nextTimeout: iso(session.nextTimeout) }, session };
  }

  /** PUT /v1/admin/pools/{name} `{ capacity }`. */
  async setPool(name: unknown, body: unknown): Promise<{ pool: string; capacity: number; available: number }> {
    const pool = holdName(name, 'name');
    const b = bodyObject(body, ['capacity']);
    const c = b.capacity;
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) throw invalid("'capacity' must be a whole number, 0 or more.", 'capacity');
    const info = await this.store.setPool(pool, c);
    return { pool: info.name, capacity: info.capacity, available: info.available };
  }

  /** DELETE /v1/admin/claims/{resource}: frees the claim on a resource, or every claim on a pool. */
  async freeClaim(name: unknown): Promise<{ deleted: true }> {
    if ((await this.store.freeClaims(holdName(name))) === 0) throw new TesseraError('CLAIM_NOT_FOUND');
    return { deleted: true };
  }

  /** GET /v1/admin/pools: every pool with its capacity and use. */
  async pools(): Promise<{ pools: PoolUse[] }> {
    return { pools: await this.store.listPools(MAX_HOLD_LIST) };
  }

  /** GET /v1/admin/pools/{name}: one pool, or POOL_NOT_FOUND. */
  async pool(name: unknown): Promise<PoolUse> {
    const pool = await this.store.getPool(holdName(name, 'name'));
    if (!pool) throw new TesseraError('POOL_NOT_FOUND');
    return pool;
  }

  /** GET /v1/admin/claims?prefix=&limit=: the sales, by name. */
  async listClaims(query: { prefix?: unknown; limit?: unknown }): Promise<{ claims: AdminClaimView[] }> {
    const claims = await this.store.listClaims(holdPrefix(query.prefix), listLimit(query.limit));
    return { claims: claims.map((c) => ({ ...claimView(c), sessionId: c.sessionId })) };
  }

  /** GET /v1/admin/holds?prefix=&limit=: live holds by name. */
  async listAll(query: { prefix?: unknown; limit?: unknown }): Promise<{ holds: AdminHoldView[] }> {
    const holds = await this.store.listHolds(holdPrefix(query.prefix), listLimit(query.limit));
    return { holds: holds.map((h) => ({ ...holdView(h), sessionId: h.sessionId })) };
  }

  /** Announces holds that expired (hold.expired), each once. Returns how many. */
  async sweep(): Promise<number> {
    return sweepInBatches((limit) => this.store.sweepExpiredHolds(limit), (expired) => {
      for (const h of expired) this.emit('hold.expired', { id: h.sessionId }, h.name);
    });
  }

  private ttl(b: Record<string, unknown>): number {
    return (optionalSeconds(b, 'ttl', this.config.holds.maxTtl) ?? this.config.holds.defaultTtl) * 1000;
  }
}
