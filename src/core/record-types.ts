import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { RecordTypeConfig } from './config.js';
import { ConfigError } from './config.js';
import type { RecordKind } from './records.js';

/** A declared record type with its schema compiled once. */
export interface RecordType {
  kind: RecordKind;
  ttl: number | null;
  maxEntries: number;
  validate: ValidateFunction | null;
  readRoles: string[] | null;
  writeRoles: string[] | null;
}

export function compileRecordTypes(types: Record<string, RecordTypeConfig>): Map<string, RecordType> {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const out = new Map<string, RecordType>();
  for (const [name, t] of Object.entries(types)) {
    let validate: ValidateFunction | null = null;
    if (t.schema !== undefined) {
      try {
        validate = ajv.compile(t.schema);
      } catch (e) {
        throw new ConfigError(`config: records.${name}.schema: ${(e as Error).message}`);
      }
    }
    out.set(name, {
      kind: t.kind, ttl: t.ttl ?? null, maxEntries: t.maxEntries, validate,
      readRoles: t.readRoles ?? null, writeRoles: t.writeRoles ?? null,
    });
  }
  return out;
}
