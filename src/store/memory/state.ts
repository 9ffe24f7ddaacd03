import type { KeyState, SessionInfo } from '../../core/session.js';
import type { StoredRecord } from '../../core/records.js';

/** One session as the memory engine keeps it; shared by the engine's slices. */
export interface MemoryEntry {
  session: SessionInfo;
  keys: KeyState;
  /** name -> entry key ('' for a single record) -> record */
  records: Map<string, Map<string, StoredRecord>>;
}
