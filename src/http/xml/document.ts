import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalid, TesseraError } from '../../core/errors.js';
import { MAX_DEPTH } from '../../core/input.js';

/**
 * Reading and writing XML documents safely. fast-xml-parser does the parsing;
 * this file decides what is refused before it ever runs (a DOCTYPE, entities
 * other than XML's five and character references, characters XML 1.0 does not
 * allow, another encoding than UTF-8) and turns its output into a small tree
 * with namespaces resolved, element names kept as data (never as keys of a
 * plain object), so that `__proto__` or `constructor` cannot reach a prototype.
 */

export interface XmlElement {
  /** The name as written, prefix included. */
  name: string;
  /** The local part of the name. */
  local: string;
  /** The namespace URI ('' for none). */
  ns: string;
  /** Attributes other than namespace declarations, by name as written. */
  attrs: Map<string, string>;
  /** Child elements and text, in document order (comments and processing instructions dropped). */
  children: (XmlElement | string)[];
}

/** How deeply a document may nest: a JSON value's limit plus the SOAP envelope and the operation around it. */
const MAX_XML_DEPTH = MAX_DEPTH + 4;

// Characters XML 1.0 cannot carry, even as a character reference.
// eslint-disable-next-line no-control-regex
export const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DOCTYPE = /<!DOCTYPE/i;
const ENTITY = /&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)/;
const CHAR_REF = /&#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}));/g;
const DECLARATION = /^<\?xml\s[^>]*?encoding\s*=\s*["']([^"']*)["']/;
// JavaScript's own names: the parser refuses them as element names, so they are carried under a mark no XML name starts with.
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const MARK = '\u00b7';

const parser = () => new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // An object: no HTML entities, but numeric character references (&#13;) are decoded.
  htmlEntities: {} as unknown as boolean,
  maxNestedTags: MAX_XML_DEPTH,
  transformTagName: (name: string) => (RESERVED.has(name) ? MARK + name : name),
  onDangerousProperty: (name: string) => name,
});

function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** Decodes a body as UTF-8, the one encoding taken: invalid bytes or another BOM are a clear 400. */
export function decodeUtf8(body: Buffer): string {
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe)) {
    throw invalid('The XML body is UTF-16; send it as UTF-8.');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw invalid('The XML body is not valid UTF-8.');
  }
}

/**
 * Parses one XML document into its root element, or throws INVALID_REQUEST
 * naming what is wrong. Nothing is parsed when the text holds a DOCTYPE.
 */
export function parseXml(text: string): XmlElement {
  if (DOCTYPE.test(text)) throw invalid('XML with a DOCTYPE is refused (no DTDs, no entity declarations).');
  const encoding = DECLARATION.exec(text)?.[1];
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
    throw invalid(`The XML declaration names the encoding '${encoding.slice(0, 40)}'; the body must be UTF-8 and say so, or say nothing.`);
  }
  if (NOT_XML_CHAR.test(text)) throw invalid('The XML body holds a character XML 1.0 does not allow.');
  const outsideText = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  if (ENTITY.test(outsideText)) throw invalid('The XML body uses an entity XML does not define (only &lt; &gt; &amp; &quot; &apos; and &#...; are known).');
  for (const ref of outsideText.matchAll(CHAR_REF)) {
    const code = ref[1] !== undefined ? parseInt(ref[1], 16) : Number(ref[2]);
    if (!isXmlChar(code)) throw invalid(`The XML body refers to the character ${ref[0]}, which XML 1.0 does not allow.`);
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw invalid(`The body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`);
  let nodes: unknown[];
  try {
    nodes = parser().parse(text) as unknown[];
  } catch (e) {
    const message = (e as Error).message ?? '';
    if (message.includes('nested')) throw invalid(`The body nests deeper than ${MAX_XML_DEPTH} levels.`);
    throw invalid(`The body is not acceptable XML: ${message.replace(/^\[SECURITY\] /, '').slice(0, 200)}`);
  }
  const roots = nodes.map((n) => toElement(n, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]))).filter((n) => n !== null);
  const elements = roots.filter((n): n is XmlElement => typeof n !== 'string');
  if (elements.length !== 1 || roots.some((n) => typeof n === 'string' && n.trim() !== '')) {
    throw invalid('The body must be one XML element (the root) and nothing else.');
  }
  return elements[0];
}

/** One node of the parser's ordered output; null for what is not data (the declaration, processing instructions). */
function toElement(node: unknown, scope: Map<string, string>): XmlElement | string | null {
  const n = node as Record<string, unknown>;
  if (typeof n['#text'] === 'string' || typeof n['#text'] === 'number') {
    const text = String(n['#text']);
    if (NOT_XML_CHAR.test(text)) throw invalid('The XML body holds a character reference to a character XML 1.0 does not allow.');
    return text;
  }
  const name = Object.keys(n).find((k) => k !== ':@');
  if (name === undefined || name.startsWith('?') || name.startsWith('!')) return null;
  const rawAttrs = (n[':@'] ?? {}) as Record<string, unknown>;
  const attrs = new Map<string, string>();
  let inner = scope;
  for (const attr of Object.keys(rawAttrs)) {
    const value = String(rawAttrs[attr]);
    if (NOT_XML_CHAR.test(value)) throw invalid('The XML body holds a character reference to a character XML 1.0 does not allow.');
    if (attr === 'xmlns' || attr.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      inner.set(attr === 'xmlns' ? '' : attr.slice(6), value);
    } else {
      attrs.set(attr, value);
    }
  }
  const written = name.startsWith(MARK) ? name.slice(1) : name;
  const colon = written.indexOf(':');
  const prefix = colon < 0 ? '' : written.slice(0, colon);
  const ns = inner.get(prefix);
  if (prefix !== '' && ns === undefined) throw invalid(`The XML body uses the namespace prefix '${prefix}' without declaring it.`);
  const element: XmlElement = { name: written, local: colon < 0 ? written : written.slice(colon + 1), ns: ns ?? '', attrs, children: [] };
  for (const child of n[name] as unknown[]) {
    const c = toElement(child, inner);
    if (c !== null) element.children.push(c);
  }
  return element;
}

/** The child elements of an element; text other than white space between them is refused. */
export function childElements(element: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of element.children) {
    if (typeof c !== 'string') out.push(c);
    else if (c.trim() !== '') throw invalid(`<${element.name}> mixes text with child elements.`);
  }
  return out;
}

/** The text of an element that has no child elements. */
export function textOf(element: XmlElement): string {
  if (element.children.some((c) => typeof c !== 'string')) throw invalid(`<${element.name}> must hold text, not elements.`);
  return element.children.join('');
}

// ---- writing -------------------------------------------------------------

/** Escapes text for an element's content or an attribute value in double quotes. CR is written as a reference: a reader turns a raw one into LF. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#13;'));
}

const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
/** An XML name without a colon (a namespace prefix would need a declaration). */
export const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);

/** Throws a 400 naming the first string a document cannot carry. */
export function checkXmlText(text: string, where: string): void {
  if (NOT_XML_CHAR.test(text)) {
    throw new TesseraError('INVALID_REQUEST', `${where} holds a character XML 1.0 cannot carry; read it as JSON instead.`, { field: where });
  }
}
