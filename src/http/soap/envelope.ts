import { ERRORS, invalid, TesseraError } from '../../core/errors.js';
import { checkXmlText, childElements, escapeXml, textOf, type XmlElement } from '../xml/document.js';
import { BY_NAME, type Field, type FieldType, type Operation } from './operations.js';

/** SOAP 1.1 and 1.2 envelopes: reading a request, writing an answer or a Fault. */

export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
/** The target namespace of the WSDL, its messages and its Fault detail. */
export const TNS = 'urn:tessera:soap:1';

export type SoapVersion = '1.1' | '1.2';

export const CONTENT_TYPE: Record<SoapVersion, string> = { '1.1': 'text/xml; charset=utf-8', '1.2': 'application/soap+xml; charset=utf-8' };

/** The SOAPAction of an operation, as the WSDL declares it. */
export const soapAction = (operation: string): string => `${TNS}#${operation}`;

export interface SoapRequest {
  operation: Operation;
  input: Record<string, unknown>;
}

/** Reads the envelope: its version must match the media type, its Body one operation of ours. */
export function readEnvelope(root: XmlElement | undefined, version: SoapVersion): SoapRequest {
  if (root === undefined) throw invalid('The request has no SOAP envelope.');
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  if (root.local !== 'Envelope' || (root.ns !== SOAP11 && root.ns !== SOAP12)) throw invalid('The root element must be a SOAP Envelope.');
  if (root.ns !== ns) {
    throw invalid(version === '1.1'
      ? 'A SOAP 1.2 envelope was sent as text/xml: send SOAP 1.2 as application/soap+xml.'
      : 'A SOAP 1.1 envelope was sent as application/soap+xml: send SOAP 1.1 as text/xml.');
  }
  const parts = childElements(root).filter((e) => e.ns === ns);
  const body = parts.find((e) => e.local === 'Body');
  if (!body) throw invalid('The SOAP envelope has no Body.');
  for (const header of parts.filter((e) => e.local === 'Header')) {
    for (const block of childElements(header)) {
      const must = block.attrs.get(`${version === '1.1' ? 'soap' : 'env'}:mustUnderstand`) ?? [...block.attrs].find(([k]) => k.endsWith(':mustUnderstand'))?.[1];
      if (must === '1' || must === 'true') throw invalid(`The header block <${block.name}> must be understood, and Tessera does not know it.`);
    }
  }
  const calls = childElements(body);
  if (calls.length !== 1) throw invalid('The SOAP Body must hold exactly one operation element.');
  const call = calls[0];
  const operation = BY_NAME.get(call.local);
  if (!operation || call.ns !== TNS) throw invalid(`Unknown operation {${call.ns}}${call.local.slice(0, 60)}: the WSDL at GET /soap?wsdl lists them.`);
  return { operation, input: readFields(call, operation.session ? [...CREDENTIALS_FIELDS, ...operation.input] : operation.input) };
}

const CREDENTIALS_FIELDS: Field[] = [{ name: 'SessionId', type: 'string' }, { name: 'SessionKey', type: 'string' }];

function isNil(e: XmlElement): boolean {
  return [...e.attrs].some(([k, v]) => (k === 'nil' || k.endsWith(':nil')) && (v === 'true' || v === '1'));
}

function readFields(element: XmlElement, fields: Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Map(fields.map((f) => [f.name, f]));
  for (const child of childElements(element)) {
    const field = known.get(child.local);
    if (!field) throw invalid(`<${element.local}> has no element <${child.local.slice(0, 60)}>.`, child.local.slice(0, 60));
    if (child.local in out) throw invalid(`<${child.local}> appears twice in <${element.local}>.`, child.local);
    if (isNil(child)) continue;
    out[child.local] = readType(child, field.type);
  }
  for (const f of fields) {
    if (!f.optional && out[f.name] === undefined) throw invalid(`<${element.local}> needs <${f.name}>.`, f.name);
  }
  return out;
}

function readType(e: XmlElement, type: FieldType): unknown {
  if (typeof type === 'string') {
    const text = textOf(e);
    switch (type) {
      case 'long': {
        const t = text.trim();
        if (!/^[+-]?\d{1,15}$/.test(t)) throw invalid(`<${e.local}> must be a whole number.`, e.local);
        return Number(t);
      }
      case 'boolean': {
        const t = text.trim();
        if (!['true', 'false', '1', '0'].includes(t)) throw invalid(`<${e.local}> must be true or false.`, e.local);
        return t === 'true' || t === '1';
      }
      default:
        return text;
    }
  }
  if ('list' in type) {
    return childElements(e).map((item) => {
      if (item.local !== type.list) throw invalid(`<${e.local}> holds <${type.list}> elements, not <${item.local.slice(0, 60)}>.`, e.local);
      return readType(item, type.of);
    });
  }
  return readFields(e, type.fields);
}

// ---- writing -------------------------------------------------------------

function envelope(version: SoapVersion, body: string): string {
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${ns}"><soap:Body>${body}</soap:Body></soap:Envelope>\n`;
}

function writeFields(out: string[], fields: Field[], value: Record<string, unknown>): void {
  for (const f of fields) {
    const v = value[f.name];
    if (v === undefined || v === null) {
      if (!f.optional) throw new Error(`soap: the answer lacks ${f.name}`);
      continue;
    }
    writeType(out, f.name, f.type, v);
  }
}

function writeType(out: string[], name: string, type: FieldType, v: unknown): void {
  if (typeof type === 'string') {
    const text = String(v);
    checkXmlText(text, name);
    return void out.push(`<${name}>${escapeXml(text)}</${name}>`);
  }
  out.push(`<${name}>`);
  if ('list' in type) for (const item of v as unknown[]) writeType(out, type.list, type.of, item);
  else writeFields(out, type.fields, v as Record<string, unknown>);
  out.push(`</${name}>`);
}

/** The answer envelope of an operation. */
export function answerEnvelope(version: SoapVersion, operation: Operation, result: Record<string, unknown>): string {
  const out: string[] = [`<${operation.name}Response xmlns="${TNS}">`];
  writeFields(out, operation.output, result);
  out.push(`</${operation.name}Response>`);
  return envelope(version, out.join(''));
}

/** A Fault: its detail holds the catalogue code, the message and, once the credentials were accepted, the key to send next. */
export function faultEnvelope(version: SoapVersion, error: TesseraError, sessionKey?: string): string {
  const message = (error.message || ERRORS[error.code].message).replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g, '\uFFFD');
  const sender = error.status < 500;
  const detail = [`<TesseraFault xmlns="${TNS}"><Code>${error.code}</Code><Message>${escapeXml(message)}</Message>`];
  if (sessionKey !== undefined) detail.push(`<SessionKey>${escapeXml(sessionKey)}</SessionKey>`);
  if (error.details !== undefined) {
    detail.push(`<Details>${escapeXml(JSON.stringify(error.details))}</Details>`);
  }
  detail.push('</TesseraFault>');
  if (version === '1.1') {
    return envelope(version, `<soap:Fault><faultcode>soap:${sender ? 'Client' : 'Server'}</faultcode><faultstring>${escapeXml(message)}</faultstring>`
      + `<detail>${detail.join('')}</detail></soap:Fault>`);
  }
  return envelope(version, `<soap:Fault><soap:Code><soap:Value>soap:${sender ? 'Sender' : 'Receiver'}</soap:Value></soap:Code>`
    + `<soap:Reason><soap:Text xml:lang="en">${escapeXml(message)}</soap:Text></soap:Reason><soap:Detail>${detail.join('')}</soap:Detail></soap:Fault>`);
}
