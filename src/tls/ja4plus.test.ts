// JA4S and JA4X (FoxIO License 1.1, opt-in): JA4S against a value from FoxIO's reference output,
// JA4X against OID lists read independently from a generated certificate with @peculiar/x509.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createRootCA } from '../../tests/helpers/pki.ts';
import { ext, serverHelloBody } from '../../tests/tls/helpers/wire.ts';
import { TlsParseError } from './bytes.ts';
import { parseServerHello } from './hello.ts';
import { ja4s, ja4x } from './ja4plus.ts';

test('JA4S matches FoxIO reference output for the same ServerHello shape', () => {
  // FoxIO python/test/testdata: JA4S t1205h2_c02f_845f7282a956, JA4S_r t1205h2_c02f_0000,ff01,000b,0023,0010.
  const sh = parseServerHello(
    serverHelloBody({
      cipher: 0xc02f,
      extensions: [ext.empty(0), ext.empty(0xff01), ext.pointFormats(0), ext.empty(0x23), ext.alpn('h2')],
    }),
  );
  assert.deepEqual(ja4s(sh, 'tcp'), { ja4s: 't1205h2_c02f_845f7282a956', ja4s_r: 't1205h2_c02f_0000,ff01,000b,0023,0010' });
  const tls13 = parseServerHello(serverHelloBody({ cipher: 0x1301, extensions: [ext.empty(0x33), ext.serverVersion(0x0304)] }));
  assert.deepEqual(ja4s(tls13, 'quic'), { ja4s: 'q130200_1301_234ea6891581', ja4s_r: 'q130200_1301_0033,002b' });
});

/** DER content bytes of a dotted OID, in hex (encoded here, independently of the code under test). */
function oidHex(dotted: string): string {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const enc = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) enc.unshift((v & 0x7f) | 0x80);
    bytes.push(...enc);
  }
  return Buffer.from(bytes).toString('hex');
}

/** The attribute names @peculiar/x509 prints for the DNs used here, with their OIDs (X.520). */
const ATTRIBUTE_OIDS: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', CN: '2.5.4.3' };

const h12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

test('JA4X hashes issuer, subject and extension OIDs in certificate order', async () => {
  const ca = await createRootCA('C=US, O=certsignal tests, CN=JA4X Root');
  const leaf = await ca.issue({ subject: 'C=US, ST=WA, L=Redmond, O=Example, CN=leaf.example', dns: ['leaf.example'] });
  const names = (n: { toJSON(): Record<string, string[]>[] }) =>
    n
      .toJSON()
      .flatMap((rdn) => Object.keys(rdn).map((k) => oidHex(ATTRIBUTE_OIDS[k] ?? k)))
      .join(',');
  const issuer = names(leaf.cert.issuerName);
  const subject = names(leaf.cert.subjectName);
  const extensions = leaf.cert.extensions.map((e) => oidHex(e.type)).join(',');
  assert.equal(issuer, '550406,55040a,550403');
  const fp = ja4x(leaf.der);
  assert.equal(fp.ja4x_r, `${issuer}_${subject}_${extensions}`);
  assert.equal(fp.ja4x, `${h12(issuer)}_${h12(subject)}_${h12(extensions)}`);
  // FoxIO's value for an issuer of C, O, CN (e.g. "Microsoft Azure TLS Issuing CA 05") is a373a9f83c6b.
  assert.equal(fp.ja4x.slice(0, 12), 'a373a9f83c6b');
});

test('JA4X of bytes that are not a certificate throws a coded error', () => {
  assert.throws(() => ja4x(Uint8Array.from([0x30, 0x05, 1])), TlsParseError);
  assert.throws(() => ja4x(Uint8Array.from([0x04, 0x00])), TlsParseError);
});
