// RFC 4514 formatting of names read from DER, and canonicalisation of logged DNs in each syntax.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { parseCertificate } from './certificate.ts';
import { canonicalDn, commonNameOf, escapeDnValue } from './dn.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** DER TLV with a short or long length. */
function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length < 128 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

/** A Name with one UTF8String attribute per RDN, given as [oid-bytes-hex, value] in DER order. */
function utf8Name(rdns: [string, string][]): Buffer {
  return tlv(
    0x30,
    Buffer.concat(
      rdns.map(([oidHex, value]) =>
        tlv(0x31, tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from(oidHex, 'hex')), tlv(0x0c, Buffer.from(value, 'utf8'))]))),
      ),
    ),
  );
}

async function certWithName(name: x509.JsonName | Buffer): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as {
    publicKey: webcrypto.CryptoKey;
    privateKey: webcrypto.CryptoKey;
  };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: Buffer.isBuffer(name) ? new x509.Name(new Uint8Array(name)) : new x509.Name(name),
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys,
  });
  return cert.toString('pem');
}

describe('escapeDnValue (RFC 4514 §2.4)', () => {
  it('escapes the special characters, a leading # or space and a trailing space', () => {
    assert.equal(escapeDnValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
    assert.equal(escapeDnValue('#x'), '\\#x');
    assert.equal(escapeDnValue(' x '), '\\ x\\ ');
    assert.equal(escapeDnValue('a#b c'), 'a#b c');
    assert.equal(escapeDnValue('nul\u0000cr\r'), 'nul\\00cr\\0D');
    assert.equal(escapeDnValue('Zoë'), 'Zoë');
  });
});

describe('names read from certificate DER', () => {
  it('orders RDNs most specific first, escapes values, joins multi-valued RDNs with + and uses short names', async () => {
    const pem = await certWithName([
      { '2.5.4.6': ['US'] },
      { '2.5.4.10': ['Acme, Inc.'] },
      { '2.5.4.3': [' alice;<x> '], '0.9.2342.19200300.100.1.1': ['a+b'] },
      { '1.2.840.113549.1.9.1': ['x@example.com'] },
      { '2.5.4.5': ['1234'] },
    ]);
    const info = parseCertificate(pem).info;
    assert.equal(info.subject, '2.5.4.5=1234,emailAddress=x@example.com,CN=\\ alice\\;\\<x\\>\\ +UID=a\\+b,O=Acme\\, Inc.,C=US');
    assert.equal(info.subject, info.issuer);
    assert.equal(info.subject_cn, ' alice;<x> ');
  });

  it('keeps non-ASCII UTF-8 as is and round-trips through canonicalDn', async () => {
    // @peculiar/x509's JSON names cannot carry non-ASCII text: build the Name DER directly.
    const pem = await certWithName(
      utf8Name([
        ['550403', 'Zoë "Z" Müller'],
        ['55040b', 'R&D'],
      ]),
    );
    const subject = parseCertificate(pem).info.subject as string;
    assert.equal(subject, 'OU=R&D,CN=Zoë \\"Z\\" Müller');
    assert.equal(canonicalDn(subject), subject);
  });
});

describe('canonicalDn', () => {
  it('reads OpenSSL RFC 2253 output (Zeek, nginx): escaped UTF-8 bytes, long names, multi-valued RDNs', () => {
    assert.equal(canonicalDn('CN=Zo\\C3\\AB,O=Acme\\, Inc.,C=US'), 'CN=Zoë,O=Acme\\, Inc.,C=US');
    assert.equal(
      canonicalDn('emailAddress=a@b.c,CN=x,street=Main 1,postalCode=123'),
      'emailAddress=a@b.c,CN=x,STREET=Main 1,2.5.4.17=123',
    );
    assert.equal(canonicalDn('L=TURNBKL+CN=SERVR'), 'CN=SERVR+L=TURNBKL');
    assert.equal(canonicalDn('serialNumber=1Bc=\\0D\\0A+L=nc:S+CN=nc:S'), '2.5.4.5=1Bc=\\0D\\0A+CN=nc:S+L=nc:S');
  });

  it('treats multi-valued RDN members as a set, whichever order they come in', () => {
    assert.equal(canonicalDn('CN=SERVR+L=TURNBKL'), canonicalDn('L=TURNBKL+CN=SERVR'));
  });

  it('reads Suricata wire order, unescaped values containing ", "', () => {
    assert.equal(
      canonicalDn('C=US, ST=California, L=Sunnyvale, O=OneSecure, Inc., OU=Fulfillment, CN=jumper, Email=f@o.com', 'wire-order'),
      'emailAddress=f@o.com,CN=jumper,OU=Fulfillment,O=OneSecure\\, Inc.,L=Sunnyvale,ST=California,C=US',
    );
  });

  it('reads the legacy slash form (X509_NAME_oneline)', () => {
    assert.equal(canonicalDn('/C=US/O=Example/CN=x/y', 'slash'), 'CN=x/y,O=Example,C=US');
    assert.equal(canonicalDn('/C=DE/CN=M\\xC3\\xBCller', 'slash'), 'CN=Müller,C=DE');
  });

  it('decodes #hex string values and keeps other #hex values as hex', () => {
    // UTF8String "hi" under an OID OpenSSL does not know
    assert.equal(canonicalDn('1.2.3.4=#0C026869,CN=a'), '1.2.3.4=hi,CN=a');
    assert.equal(canonicalDn('1.2.3.4=#0201FF'), '1.2.3.4=#0201ff');
  });

  it('keeps escaped trailing spaces and drops unescaped ones; accepts quoted values', () => {
    assert.equal(canonicalDn('CN=a\\ ,O=b'), 'CN=a\\ ,O=b');
    assert.equal(canonicalDn('CN=a  , O=b'), 'CN=a,O=b');
    assert.equal(canonicalDn('CN="a, b",O=c'), 'CN=a\\, b,O=c');
  });

  it('returns null for text that is not a DN', () => {
    assert.equal(canonicalDn(''), null);
    assert.equal(canonicalDn('alice'), null);
    assert.equal(canonicalDn('no equals here', 'wire-order'), null);
    assert.equal(canonicalDn('C=US', 'slash'), null);
  });

  it('commonNameOf gives the most specific CN, unescaped', () => {
    assert.equal(commonNameOf('CN=a\\, b,O=x,CN=root'), 'a, b');
    assert.equal(commonNameOf('O=x'), null);
  });
});
