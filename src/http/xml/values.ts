import { invalid, TesseraError } from '../../core/errors.js';
import { checkIntegerLiteral } from '../../core/input.js';
import { checkXmlText, childElements, escapeXml, textOf, XML_NAME, type XmlElement } from './document.js';

/**
 * JSON values as XML elements, both ways, so that a value written in one and
 * read in the other is the same value (docs/xml-and-soap.md, "Types"):
 *
 * - a property is a child element of the same name; an array is repeated <item>;
 * - the writer marks every value that is not a string with `type`
 *   (number, boolean, null, array, object); a string is plain text;
 * - the reader takes `type` when present; without it, child elements all
 *   named <item> are an array, other child elements an object, and text (the
 *   empty text too) a string. The protocol's own number and boolean
 *   properties (idleTimeout, queue, ttl, ...) need no `type`: their text is
 *   read as the number or boolean it spells.
 *
 * What XML cannot carry is refused with a clear 400, never changed: a property
 * name that is not an XML name (or has a colon) and a string with a character
 * XML 1.0 does not allow.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;
type XmlType = (typeof TYPES)[number];
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** The body properties of the protocol that are numbers or booleans: read as such without a `type`. */
const NUMBER_FIELDS = new Set(['idleTimeout', 'lifespan', 'ttl', 'quantity', 'capacity', 'pageSize', 'count']);
const BOOLEAN_FIELDS = new Set(['queue', 'touchRecords', 'anonymous', 'all']);

/** A request document's body: the root must be <request>; its children are the body's properties. */
export function decodeRequest(root: XmlElement): Record<string, Json> {
  if (root.local !== 'request') throw invalid(`The root element must be <request>, not <${root.name}>.`);
  typeOf(root);
  return decodeObject(root, true);
}

/** The JSON value an element holds. `field`: a property of the protocol's, whose type is known. */
function decodeValue(element: XmlElement, field?: string): Json {
  const type = typeOf(element);
  switch (type) {
    case 'null':
      if (element.children.some((c) => typeof c !== 'string' || c !== '')) throw invalid(`<${element.name} type="null"> must be empty.`);
      return null;
    case 'string':
      return textOf(element);
    case 'number': {
      const text = textOf(element).trim();
      const n = Number(text);
      if (!NUMBER.test(text) || !Number.isFinite(n)) throw invalid(`<${element.name}> holds '${text.slice(0, 40)}', not a number (or one out of range).`);
      return exactInteger(text, n);
    }
    case 'boolean': {
      const text = textOf(element).trim();
      if (text !== 'true' && text !== 'false') throw invalid(`<${element.name}> must be true or false.`);
      return text === 'true';
    }
    case 'array':
      return childElements(element).map((item) => {
        if (item.local !== 'item') throw invalid(`<${element.name}> is an array: its children must be <item>, not <${item.name}>.`);
        return decodeValue(item);
      });
    case 'object':
      return decodeObject(element);
    default: {
      const children = element.children.some((c) => typeof c !== 'string') ? childElements(element) : [];
      if (children.length > 0) return children.every((c) => c.local === 'item') ? children.map((c) => decodeValue(c)) : decodeObject(element);
      const text = textOf(element);
      // A protocol number or boolean spelt right becomes one; spelt wrong, the use case refuses the text with its own message.
      if (field !== undefined && NUMBER_FIELDS.has(field) && NUMBER.test(text.trim())) return exactInteger(text.trim(), Number(text.trim()));
      if (field !== undefined && BOOLEAN_FIELDS.has(field) && (text.trim() === 'true' || text.trim() === 'false')) return text.trim() === 'true';
      return text;
    }
  }
}

/** As with JSON bodies: an integer no double holds exactly would be stored as a nearby one, so it is refused. */
function exactInteger(text: string, n: number): number {
  if (/^-?\d+$/.test(text)) checkIntegerLiteral(text);
  return n;
}

function typeOf(element: XmlElement): XmlType | undefined {
  for (const attr of element.attrs.keys()) {
    // xsi:* and the like belong to the document, not to the value.
    if (attr !== 'type' && !attr.includes(':')) throw invalid(`<${element.name}> has the attribute '${attr}': only 'type' is known.`);
  }
  const type = element.attrs.get('type');
  if (type === undefined) return undefined;
  if (!(TYPES as readonly string[]).includes(type)) throw invalid(`<${element.name}> has type="${type.slice(0, 40)}": use one of ${TYPES.join(', ')}.`);
  return type as XmlType;
}

/** `body`: the properties are the request's own (their types are known). */
function decodeObject(element: XmlElement, body = false): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const child of childElements(element)) {
    const key = child.local;
    if (key === '__proto__') throw invalid('An XML body may not hold a __proto__ element.');
    if (Object.prototype.hasOwnProperty.call(out, key)) throw invalid(`<${key}> appears twice in <${element.name}>; an array is repeated <item> inside one element.`);
    // defineProperty: an own property whatever the name (never a setter such as __proto__'s).
    Object.defineProperty(out, key, { value: decodeValue(child, body ? key : undefined), enumerable: true, writable: true, configurable: true });
  }
  const ctor = Object.prototype.hasOwnProperty.call(out, 'constructor') ? out.constructor : undefined;
  if (ctor !== null && typeof ctor === 'object' && !Array.isArray(ctor) && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) {
    throw invalid('An XML body may not hold constructor.prototype (refused as in JSON).');
  }
  return out;
}

// ---- writing -------------------------------------------------------------

/** A document whose root element is `root` and holds `value`'s properties (an object) as its children. */
export function encodeDocument(root: string, value: unknown, sanitize = false): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(`<${root}>`);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) writeMembers(out, value as Record<string, unknown>, root, sanitize, 1);
  else if (value !== undefined) throw new Error('encodeDocument: the root value must be an object');
  out.push(`</${root}>\n`);
  return out.join('');
}

/**
 * `sanitize` (error bodies): a character or name XML cannot carry is replaced
 * instead of refused, since the error must be told whatever it quotes.
 */
function writeValue(out: string[], name: string, value: unknown, path: string, sanitize: boolean, depth: number): void {
  if (value === undefined) return;
  if (depth > 200) throw new Error('encodeDocument: value nested too deeply');
  if (value === null) return void out.push(`<${name} type="null"/>`);
  switch (typeof value) {
    case 'string': {
      const text = sanitize ? value.replace(new RegExp(NOT_XML_GLOBAL, 'g'), '\uFFFD') : value;
      if (!sanitize) checkXmlText(text, path);
      out.push(`<${name}>`, escapeXml(text), `</${name}>`);
      return;
    }
    case 'number':
      if (!Number.isFinite(value)) return void out.push(`<${name} type="null"/>`); // as JSON.stringify writes it
      return void out.push(`<${name} type="number">${String(value)}</${name}>`);
    case 'boolean':
      return void out.push(`<${name} type="boolean">${String(value)}</${name}>`);
    case 'object': {
      const v = value as { toJSON?: () => unknown };
      if (typeof v.toJSON === 'function') return writeValue(out, name, v.toJSON(), path, sanitize, depth);
      if (Array.isArray(value)) {
        if (value.length === 0) return void out.push(`<${name} type="array"/>`);
        out.push(`<${name} type="array">`);
        value.forEach((item, i) => writeValue(out, 'item', item === undefined ? null : item, `${path}[${i}]`, sanitize, depth + 1));
        return void out.push(`</${name}>`);
      }
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
      if (keys.length === 0) return void out.push(`<${name} type="object"/>`);
      out.push(`<${name} type="object">`);
      writeMembers(out, value as Record<string, unknown>, path, sanitize, depth + 1);
      return void out.push(`</${name}>`);
    }
    default:
      return; // functions, symbols: JSON leaves them out too
  }
}

const NOT_XML_GLOBAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.source;

function writeMembers(out: string[], value: Record<string, unknown>, path: string, sanitize: boolean, depth: number): void {
  for (const key of Object.keys(value)) {
    let name = key;
    if (!XML_NAME.test(key)) {
      if (!sanitize) {
        throw new TesseraError('INVALID_REQUEST', `${path} has the property '${key.slice(0, 60)}', which is not an XML element name; read it as JSON instead.`,
          { field: path });
      }
      name = 'property';
    }
    writeValue(out, name, value[key], `${path}.${key}`, sanitize, depth);
  }
}
