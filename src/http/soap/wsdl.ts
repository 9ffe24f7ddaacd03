import { escapeXml } from '../xml/document.js';
import { soapAction, TNS } from './envelope.js';
import { CREDENTIALS, OPERATIONS, type ComplexType, type Field, type FieldType } from './operations.js';

/**
 * The WSDL 1.1 of /soap, document/literal (wrapped): one XSD element per
 * message, a SOAP 1.1 and a SOAP 1.2 binding, and a service whose two ports
 * are at `address`, the URL the client reached this server by.
 */

const XSD_TYPE: Record<string, string> = { string: 'xs:string', long: 'xs:long', boolean: 'xs:boolean', dateTime: 'xs:dateTime' };

function complexTypes(): ComplexType[] {
  const found = new Map<string, ComplexType>();
  const visit = (t: FieldType) => {
    if (typeof t === 'string') return;
    if ('list' in t) return visit(t.of);
    if (!found.has(t.complex)) {
      found.set(t.complex, t);
      t.fields.forEach((f) => visit(f.type));
    }
  };
  for (const o of OPERATIONS) [...o.input, ...o.output].forEach((f) => visit(f.type));
  return [...found.values()];
}

function element(f: Field): string {
  const occurs = f.optional ? ' minOccurs="0"' : '';
  const doc = f.doc ? `<xs:annotation><xs:documentation>${escapeXml(f.doc)}</xs:documentation></xs:annotation>` : '';
  const t = f.type;
  if (typeof t === 'string') return doc ? `<xs:element name="${f.name}" type="${XSD_TYPE[t]}"${occurs}>${doc}</xs:element>` : `<xs:element name="${f.name}" type="${XSD_TYPE[t]}"${occurs}/>`;
  if ('list' in t) {
    const of = typeof t.of === 'string' ? XSD_TYPE[t.of] : `tns:${(t.of as ComplexType).complex}`;
    return `<xs:element name="${f.name}"${occurs}>${doc}<xs:complexType><xs:sequence>`
      + `<xs:element name="${t.list}" type="${of}" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>`;
  }
  return `<xs:element name="${f.name}" type="tns:${t.complex}"${occurs}>${doc}</xs:element>`;
}

const sequence = (fields: Field[]) => `<xs:complexType><xs:sequence>${fields.map(element).join('')}</xs:sequence></xs:complexType>`;

export function wsdl(address: string): string {
  const schema = [
    `<xs:schema targetNamespace="${TNS}" xmlns:tns="${TNS}" elementFormDefault="qualified">`,
    ...complexTypes().map((t) => `<xs:complexType name="${t.complex}"><xs:sequence>${t.fields.map(element).join('')}</xs:sequence></xs:complexType>`),
    ...OPERATIONS.flatMap((o) => [
      `<xs:element name="${o.name}">${sequence(o.session ? [...CREDENTIALS, ...o.input] : o.input)}</xs:element>`,
      `<xs:element name="${o.name}Response">${sequence(o.output)}</xs:element>`,
    ]),
    '<xs:element name="TesseraFault"><xs:complexType><xs:sequence>'
      + '<xs:element name="Code" type="xs:string"><xs:annotation><xs:documentation>The error code of the catalogue (docs/errors.md), as JSON answers it.</xs:documentation></xs:annotation></xs:element>'
      + '<xs:element name="Message" type="xs:string"/>'
      + '<xs:element name="SessionKey" type="xs:string" minOccurs="0"><xs:annotation><xs:documentation>Present when the credentials were accepted before the error: the key to send next.</xs:documentation></xs:annotation></xs:element>'
      + '<xs:element name="Details" type="xs:string" minOccurs="0"><xs:annotation><xs:documentation>The error details as JSON text, when there are any.</xs:documentation></xs:annotation></xs:element>'
      + '</xs:sequence></xs:complexType></xs:element>',
    '</xs:schema>',
  ].join('\n');

  const messages = OPERATIONS.flatMap((o) => [
    `<wsdl:message name="${o.name}Request"><wsdl:part name="parameters" element="tns:${o.name}"/></wsdl:message>`,
    `<wsdl:message name="${o.name}Response"><wsdl:part name="parameters" element="tns:${o.name}Response"/></wsdl:message>`,
  ]);
  const portType = OPERATIONS.map((o) => `<wsdl:operation name="${o.name}"><wsdl:documentation>${escapeXml(o.doc)}</wsdl:documentation>`
    + `<wsdl:input message="tns:${o.name}Request"/><wsdl:output message="tns:${o.name}Response"/><wsdl:fault name="TesseraFault" message="tns:TesseraFault"/></wsdl:operation>`);
  const binding = (prefix: 'soap' | 'soap12') => OPERATIONS.map((o) => `<wsdl:operation name="${o.name}">`
    + `<${prefix}:operation soapAction="${soapAction(o.name)}" style="document"/>`
    + `<wsdl:input><${prefix}:body use="literal"/></wsdl:input><wsdl:output><${prefix}:body use="literal"/></wsdl:output>`
    + `<wsdl:fault name="TesseraFault"><${prefix}:fault name="TesseraFault" use="literal"/></wsdl:fault></wsdl:operation>`);

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<wsdl:definitions name="Tessera" targetNamespace="${TNS}" xmlns:tns="${TNS}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"`,
    '  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:xs="http://www.w3.org/2001/XMLSchema">',
    '<wsdl:documentation>Tessera sessions over SOAP 1.1 and 1.2: SessionId and SessionKey in every session-bound request, the next SessionKey in its answer; errors are Faults whose detail holds the catalogue code.</wsdl:documentation>',
    `<wsdl:types>${schema}</wsdl:types>`,
    ...messages,
    '<wsdl:message name="TesseraFault"><wsdl:part name="fault" element="tns:TesseraFault"/></wsdl:message>',
    `<wsdl:portType name="TesseraPortType">${portType.join('')}</wsdl:portType>`,
    `<wsdl:binding name="TesseraSoap11" type="tns:TesseraPortType"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>${binding('soap').join('')}</wsdl:binding>`,
    `<wsdl:binding name="TesseraSoap12" type="tns:TesseraPortType"><soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>${binding('soap12').join('')}</wsdl:binding>`,
    '<wsdl:service name="Tessera">',
    `<wsdl:port name="TesseraSoap11" binding="tns:TesseraSoap11"><soap:address location="${escapeXml(address)}"/></wsdl:port>`,
    `<wsdl:port name="TesseraSoap12" binding="tns:TesseraSoap12"><soap12:address location="${escapeXml(address)}"/></wsdl:port>`,
    '</wsdl:service>',
    '</wsdl:definitions>',
    '',
  ].join('\n');
}
