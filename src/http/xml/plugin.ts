import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { decodeUtf8, parseXml, type XmlElement } from './document.js';
import { negotiate } from './negotiate.js';
import { decodeRequest, encodeDocument } from './values.js';

/**
 * XML on the HTTP face (docs/xml-and-soap.md): XML request bodies, and answers
 * in XML when the Accept header prefers it or the request was XML, on every
 * `/v1` route and the Futurama routes. A route may take over how its answers
 * are written (`config.answer`: /soap does) or read its XML body whole
 * (`config.xmlDocument`: the SOAP envelope).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Sets up how this route's answers (errors included) are written; runs first, as the request arrives. */
    answer?: (request: FastifyRequest, reply: FastifyReply) => void;
    /** The body is handed to the route as the parsed document (an XmlElement), not as a JSON-like value. */
    xmlDocument?: boolean;
  }
}

const XML_TYPES = ['application/xml', 'text/xml'] as const;
export const JSON_TYPE = 'application/json';
/** Routes under these prefixes speak XML as well as JSON. */
const NEGOTIATED = ['/v1/', '/rest/webapi/'];

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function isXml(media: string): boolean {
  return media === 'application/xml' || media === 'text/xml' || /^application\/[\w.+-]+\+xml$/.test(media);
}

/** Writes every answer of this reply as an XML document (root <response>), content type `type`. */
function answerInXml(reply: FastifyReply, type: string = 'application/xml'): void {
  const contentType = `${type}; charset=utf-8`;
  reply.type(contentType);
  reply.serializer((payload: unknown) => {
    reply.type(contentType); // again: Fastify drops the content type of a reply that became an error
    if (typeof payload === 'string') return payload;
    const isError = payload !== null && typeof payload === 'object' && 'error' in payload;
    return encodeDocument('response', isError ? payload : asJsonWould(reply, payload), isError);
  });
}

/**
 * The payload as the route's JSON answer has it: when the route's schema
 * shapes its JSON answer (dropping, coercing), the XML answer gets the same
 * properties and values.
 */
function asJsonWould(reply: FastifyReply, payload: unknown): unknown {
  const status = String(reply.statusCode);
  for (const key of [status, `${status[0]}xx`, `${status[0]}XX`, 'default']) {
    let fn: unknown;
    try {
      fn = reply.getSerializationFunction(key);
    } catch {
      return payload;
    }
    if (fn && typeof fn === 'object') fn = (fn as Record<string, unknown>)[JSON_TYPE];
    if (typeof fn === 'function') return JSON.parse((fn as (v: unknown) => string)(payload));
    if (fn !== undefined) return payload;
  }
  return payload;
}

/** The media types a route's schema says its success answers come in, besides JSON and XML (text/event-stream). */
function extraTypes(request: FastifyRequest): string[] {
  const schema = request.routeOptions.schema as { response?: Record<string, { content?: Record<string, unknown> }> } | undefined;
  if (!schema) return [];
  let types = extraTypesOf.get(schema);
  if (!types) extraTypesOf.set(schema, (types = extraTypesOfSchema(schema.response)));
  return types;
}

/** A route's extra media types, worked out once per route (its schema object) rather than on every request. */
const extraTypesOf = new WeakMap<object, string[]>();

function extraTypesOfSchema(response: Record<string, { content?: Record<string, unknown> }> | undefined): string[] {
  if (!response) return [];
  const types = new Set<string>();
  for (const [status, r] of Object.entries(response)) {
    if (!/^2/.test(status) || !r || typeof r !== 'object' || !r.content) continue;
    for (const t of Object.keys(r.content)) if (t !== JSON_TYPE && !(XML_TYPES as readonly string[]).includes(t)) types.add(t);
  }
  return [...types];
}

/** Negotiates the answer's media type for a /v1 or Futurama route: JSON or XML (or what else the route offers). */
function negotiateAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const contentType = request.headers['content-type'];
  const accept = request.headers.accept;
  // The common case, decided without parsing: a JSON (or bodiless) request that
  // accepts anything or JSON gets JSON, the first offer, which needs no set-up.
  if ((contentType === undefined || contentType === JSON_TYPE || contentType.startsWith('application/json;')) &&
    (accept === undefined || accept === '*/*' || accept === JSON_TYPE)) return;
  const xmlRequest = isXml(mediaType(contentType));
  if (xmlRequest) answerInXml(reply); // errors of negotiation itself come back as the request came
  const offers = xmlRequest ? [...XML_TYPES, JSON_TYPE] : [JSON_TYPE, ...XML_TYPES];
  const chosen = negotiate(request.headers.accept, [...offers, ...extraTypes(request)]);
  if (chosen === null) {
    throw new TesseraError('NOT_ACCEPTABLE', `This route answers in ${[JSON_TYPE, ...XML_TYPES].join(', ')}; the Accept header takes none of them.`);
  }
  if ((XML_TYPES as readonly string[]).includes(chosen)) answerInXml(reply, chosen);
  else if (chosen === JSON_TYPE && xmlRequest) {
    reply.serializer((payload: unknown) => {
      reply.type('application/json; charset=utf-8');
      return typeof payload === 'string' ? payload : JSON.stringify(payload);
    });
    reply.type('application/json; charset=utf-8');
  }
}

/** Registers the XML body parsers and the negotiation hook. Call before any other onRequest hook, so that every error is written in the format chosen. */
export function xmlSupport(app: FastifyInstance): void {
  const parse = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      const params = (request.headers['content-type'] ?? '').split(';').slice(1);
      for (const p of params) {
        const m = /^\s*charset\s*=\s*"?([^";]*)"?\s*$/i.exec(p);
        if (m && !/^utf-?8$/i.test(m[1])) throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', `XML is taken in UTF-8 only, not ${m[1].slice(0, 40)}.`);
      }
      const media = mediaType(request.headers['content-type']);
      const asDocument = request.routeOptions.config.xmlDocument === true;
      if (!asDocument && media === 'application/soap+xml') {
        throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', 'SOAP envelopes go to POST /soap; /v1 takes application/xml or JSON.');
      }
      if (body.length === 0) return done(null, undefined);
      const root: XmlElement = parseXml(decodeUtf8(body));
      done(null, asDocument ? root : decodeRequest(root));
    } catch (e) {
      done(e as Error);
    }
  };
  // The routes' schemas name XML beside JSON, for the OpenAPI document (@fastify/swagger reads consumes and produces).
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { consumes?: string[]; produces?: string[]; response?: Record<string, { content?: unknown }> } | undefined;
    if (!schema || !NEGOTIATED.some((p) => route.url.startsWith(p))) return;
    schema.consumes ??= [JSON_TYPE, ...XML_TYPES];
    if (!Object.values(schema.response ?? {}).some((r) => r && typeof r === 'object' && 'content' in r)) schema.produces ??= [JSON_TYPE, ...XML_TYPES];
  });
  app.addContentTypeParser(['application/xml', 'text/xml', 'application/soap+xml'], { parseAs: 'buffer' }, parse);
  app.addContentTypeParser(/^application\/[\w.+-]+\+xml$/, { parseAs: 'buffer' }, parse);

  app.addHook('onRequest', (request, reply, done) => {
    try {
      const answer = request.routeOptions.config.answer;
      if (answer) answer(request, reply);
      else if (NEGOTIATED.some((p) => request.url.startsWith(p))) negotiateAnswer(request, reply); // the prefix is before any query
    } catch (e) {
      return done(e as Error);
    }
    done();
  });
}
