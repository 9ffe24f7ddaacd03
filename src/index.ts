/** Tessera as a library: the service, the stores, the HTTP face and the catalogue. */
export { Tessera } from './service/tessera.js';
export { SessionFile } from './service/session-file.js';
export type { Client, SessionContext, CreatedSession, SessionView, RecordView, MultipleRecordView, EntryView, TesseraEvent, TesseraOptions } from './service/tessera.js';
export { Users } from './service/users.js';
export type { UserView, AdminSessionView } from './service/users.js';
export { resolveConfig, ConfigError, DEFAULTS } from './core/config.js';
export type { TesseraConfig, ClientConfig, RecordTypeConfig } from './core/config.js';
export { ERRORS, TesseraError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { manualClock, systemClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
export type { SessionStore, StoredRecord, RecordWrite } from './store/contract.js';
export { createMemoryStore } from './store/memory/index.js';
export { createSqliteStore } from './store/sqlite/index.js';
export { openStore } from './store/open.js';
export { buildServer } from './http/server.js';
