import { XMLParser } from 'fast-xml-parser';
import type { FastifyInstance } from 'fastify';
import { TOKENS } from './harness.js';

/** The engines the XML, SOAP and Futurama tests run on (TESSERA_ENGINES narrows them). */
export function xmlEngines(): string[] {
  const only = process.env.TESSERA_ENGINES?.split(',').filter(Boolean);
  return ['memory', 'sqlite', 'redis'].filter((e) => !only || only.includes(e));
}

export interface XmlAnswer {
  status: number;
  text: string;
  type: string;
  headers: Record<string, unknown>;
}

/** Sends a raw body (XML by default) and answers the raw text. */
export async function sendXml(app: FastifyInstance, method: string, url: string, opts: {
  token?: string | null; body?: string | Buffer; contentType?: string; accept?: string; headers?: Record<string, string>;
} = {}): Promise<XmlAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKENS.web}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/xml';
  if (opts.accept !== undefined) headers.accept = opts.accept;
  const res = await app.inject({ method: method as 'GET', url, headers, payload: opts.body });
  return { status: res.statusCode, text: res.body, type: String(res.headers['content-type'] ?? ''), headers: res.headers };
}

/** A plain reading of an answer document, for assertions (attributes under @_). */
export function readXml(text: string): any {
  return new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false }).parse(text);
}
