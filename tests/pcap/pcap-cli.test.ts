// End-to-end tests of captures as a first-class input, through the real `certsignal` command:
// `certsignal pcap` records (client certificates from mutual-TLS captures checked against the
// certificates tshark carved out of the same pcaps, TLS 1.3 visibility, JA4 against FoxIO's
// expected outputs, JA4+ opt-in) and `certsignal analyze` / `normalize` on a capture.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseLines, runCli, SHARED } from '../helpers/cli.ts';
import { createRootCA } from '../helpers/pki.ts';
import { FOXIO_DIR, pythonTlsRecords, rustRecords } from '../tls/helpers/foxio.ts';

const REAL = `${SHARED}realdata/`;
const ZEEK_CLIENT_CERT = `${REAL}zeek/Traces/tls/client-certificate.pcap`;
const SURICATA_CLIENT_AUTH = `${REAL}suricata-verify/tests/tls/tls-store-02/tls-client-auth.pcap`;
const TLS13 = `${REAL}zeek/Traces/tls/chrome-1250-tls-x25519-kyber.pcap`;
const DERIVED = `${REAL}derived-certs-from-pcaps/`;
const tmp = mkdtempSync(join(tmpdir(), 'certsignal-pcap-'));

interface CertSummary {
  sha256: string;
  sha1: string;
  spki_sha256: string | null;
  subject: string | null;
  issuer: string | null;
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
}
type PcapRecord = Record<string, unknown> & {
  client_certificates: CertSummary[] | null;
  server_certificates: CertSummary[] | null;
  client_certificates_reason: string | null;
  server_certificates_reason: string | null;
};

async function pcapJson(args: string[]): Promise<{ code: number; stderr: string; records: PcapRecord[] }> {
  const r = await runCli(['pcap', '--output', 'json', ...args]);
  return { code: r.code, stderr: r.stderr, records: parseLines<PcapRecord>(r.stdout) };
}

/** A row of derived-certs-from-pcaps/INDEX.tsv (certificates tshark exported from the pcaps). */
function indexRow(derFile: string): Record<string, string> {
  const [header, ...rows] = readFileSync(`${DERIVED}INDEX.tsv`, 'utf8').trim().split('\n');
  const keys = header.split('\t');
  const row = rows.map((r) => r.split('\t')).find((r) => r[0] === `./${derFile}`);
  assert.ok(row, `${derFile} listed in INDEX.tsv`);
  return Object.fromEntries(keys.map((k, i) => [k, row[i]]));
}

/** INDEX.tsv / tshark serial (upper-case hex, maybe leading zeros) → certsignal's canonical form. */
const canonical = (hex: string) =>
  hex
    .toLowerCase()
    .replace(/:/g, '')
    .replace(/^0+(?=.)/, '');
const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('client-certificate.pcap: johanna@corelight.com client certificate (Actalis) is extracted with its chain', async () => {
  const { code, records } = await pcapJson([ZEEK_CLIENT_CERT]);
  assert.equal(code, 0);
  assert.equal(records.length, 1);
  const r = records[0];
  assert.equal(r.transport, 'tcp');
  assert.equal(r.sni, 'certauth.idrix.fr');
  assert.equal(r.src_port, 49480);
  assert.equal(r.dst_port, 443);
  assert.equal(r.version, 'TLS 1.2');
  assert.ok(r.client_certificates && r.client_certificates.length === 2);
  const leaf = r.client_certificates[0];
  assert.equal(leaf.subject, 'CN=johanna@corelight.com');
  assert.match(leaf.issuer ?? '', /^CN=Actalis Client Authentication CA G3,O=Actalis S\.p\.A\./);

  // Same certificate tshark exported from frame 15 of this pcap.
  const row = indexRow('client-certificate/frame15_cert0.der');
  assert.equal(leaf.serial, canonical(row.serial));
  assert.equal(leaf.sha1, row.sha1_fp.toLowerCase().replace(/:/g, ''));
  assert.equal(leaf.sha256, sha256Of(`${DERIVED}client-certificate/frame15_cert0.der`));
  // tshark's own dissection (frame 15 = the client's Certificate message) names the same serial first.
  const check = readFileSync(`${REAL}tshark-checks/tshark-mtls-check.txt`, 'utf8');
  const frame15 = check.split('\n').find((l) => l.startsWith('15|') && l.includes('|49480|'));
  assert.ok(frame15);
  assert.equal(canonical(frame15.split('|')[5].split(',')[0]), leaf.serial);
  assert.ok(leaf.spki_sha256 && /^[0-9a-f]{64}$/.test(leaf.spki_sha256));
  assert.equal(leaf.not_before, '2023-02-28T15:59:27.000Z');
  assert.equal(leaf.not_after, '2024-02-28T15:59:27.000Z');

  // The server chain is the server's, not the client's.
  assert.ok(r.server_certificates && r.server_certificates.length === 3);
  assert.equal(r.server_certificates[0].subject, 'CN=certauth.idrix.fr');
  assert.equal(r.server_certificates[0].sha256, sha256Of(`${DERIVED}client-certificate/frame11_cert0.der`));
  assert.equal(r.client_certificates_reason, null);
  assert.equal(r.server_certificates_reason, null);
  assert.equal(r.outcome, 'success');
});

test('tls-client-auth.pcap (suricata-verify): client serial 00:C7:D4:28:8B:80:E0:1E:27 → c7d4288b80e01e27', async () => {
  const { code, records } = await pcapJson([SURICATA_CLIENT_AUTH]);
  assert.equal(code, 0);
  assert.equal(records.length, 1);
  const client = records[0].client_certificates;
  assert.ok(client && client.length >= 1);
  assert.equal(client[0].serial, 'c7d4288b80e01e27');
  assert.match(client[0].subject ?? '', /^CN=SampleClientJane,/);
  assert.equal(client[0].sha256, sha256Of(`${DERIVED}tls-client-auth/frame9_cert0.der`));
  const server = records[0].server_certificates;
  assert.ok(server);
  assert.equal(server[0].serial, canonical(indexRow('tls-client-auth/frame7_cert0.der').serial));
  assert.equal(records[0].ja3, '2a26b1a62e40d25d4de3babc9d532f30'); // tshark-mtls-check.txt, frame 5
});

test('TLS 1.3: certificates are null with the reason, not guessed', async () => {
  const { code, records } = await pcapJson([TLS13]);
  assert.equal(code, 0);
  assert.equal(records.length, 1);
  const r = records[0];
  assert.equal(r.version, 'TLS 1.3');
  assert.equal(r.client_certificates, null);
  assert.equal(r.client_certificates_reason, 'tls13-encrypted');
  assert.equal(r.server_certificates, null);
  assert.equal(r.server_certificates_reason, 'tls13-encrypted');
  assert.equal(typeof r.ja4, 'string');
});

test('a visible TLS 1.2 handshake without a client certificate gives an empty list', async () => {
  const { records } = await pcapJson([`${REAL}zeek/Traces/tls/tls1.2.pcap`]);
  assert.ok(records.length >= 1);
  for (const r of records) {
    assert.equal(r.version, 'TLS 1.2');
    assert.deepEqual(r.client_certificates, []);
    assert.equal(r.client_certificates_reason, null);
  }
});

test('JA4 (and opt-in JA4S / JA4X) per session equal FoxIO expected values', async () => {
  for (const pcap of ['tls-alpn-h2.pcap', 'tls12.pcap']) {
    const expected = pythonTlsRecords(pcap);
    assert.ok(expected.length > 0, `${pcap} has expected outputs`);
    const plain = await pcapJson([`${FOXIO_DIR}pcap/${pcap}`]);
    assert.equal(plain.code, 0);
    assert.ok(!plain.stderr.includes('FoxIO License'), 'no licence notice without --ja4plus');
    const plus = await pcapJson(['--ja4plus', `${FOXIO_DIR}pcap/${pcap}`]);
    assert.match(plus.stderr, /FoxIO License 1\.1/);
    for (const e of expected) {
      const got = plain.records.find((r) => r.stream_id === e.stream);
      assert.ok(got, `${pcap} stream ${e.stream}`);
      assert.equal(got.ja4, e['JA4.1']);
      assert.ok(!('ja4s' in got) && !('ja4x' in got), 'ja4s / ja4x absent without --ja4plus');
      const gotPlus = plus.records.find((r) => r.stream_id === e.stream);
      assert.ok(gotPlus);
      assert.equal(gotPlus.ja4, e['JA4.1']);
      if (e.JA4S !== undefined) assert.equal(gotPlus.ja4s, e.JA4S);
      const ja4x = Object.keys(e)
        .filter((k) => k.startsWith('JA4X.'))
        .sort()
        .map((k) => e[k]);
      if (ja4x.length > 0) assert.deepEqual(gotPlus.ja4x, ja4x);
    }
  }
  // QUIC: FoxIO's Rust snapshot is the reference with a QUIC JA4.
  const quic = 'quic-tls-handshake.pcapng';
  const rust = rustRecords(quic).filter((r) => r.ja4 !== null);
  assert.ok(rust.length > 0);
  const got = await pcapJson([`${FOXIO_DIR}pcap/${quic}`]);
  for (const e of rust) {
    const r = got.records.find((x) => x.stream_id === e.stream && x.src_port === e.src_port);
    assert.ok(r, `${quic} stream ${e.stream}`);
    assert.equal(r.transport, 'quic');
    assert.equal(r.ja4, e.ja4);
    assert.equal(r.client_certificates, null);
    assert.equal(r.client_certificates_reason, 'tls13-encrypted');
  }
});

test('analyze on a capture runs the rules: untrusted-issuer fires for johanna (Actalis not among the anchors)', async () => {
  const ca = await createRootCA('CN=Estate Root, O=certsignal tests');
  const anchors = join(tmp, 'anchors.pem');
  writeFileSync(anchors, ca.cert.pem);
  const r = await runCli(['analyze', '--trust-anchors', anchors, '--output', 'json', ZEEK_CLIENT_CERT]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = parseLines<{ rule: string; user: string | null }>(r.stdout);
  const untrusted = alerts.filter((a) => a.rule === 'untrusted-issuer');
  assert.equal(untrusted.length, 1, r.stdout);
  assert.equal(untrusted[0].user, 'johanna@corelight.com');
  assert.match(r.stderr, /client-certificate\.pcap \[pcap\]: 1 records, 1 events/);

  // With the issuing Actalis CA (tshark's export of the client's chain, frame 15) among the
  // anchors, the same capture does not fire: the rule looked at the certificate, not the format.
  const actalis = join(tmp, 'actalis.pem');
  writeFileSync(actalis, `${ca.cert.pem}\n${readFileSync(`${DERIVED}client-certificate/frame15_cert1.pem`, 'utf8')}`);
  const trusted = await runCli(['analyze', '--trust-anchors', actalis, '--output', 'json', ZEEK_CLIENT_CERT]);
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(parseLines<{ rule: string }>(trusted.stdout).filter((a) => a.rule === 'untrusted-issuer').length, 0);
});

test('normalize on a capture: user derived from the client certificate, fingerprints and visibility kept', async () => {
  const r = await runCli(['normalize', ZEEK_CLIENT_CERT, TLS13]);
  assert.equal(r.code, 0, r.stderr);
  const events = parseLines<Record<string, unknown>>(r.stdout);
  assert.equal(events.length, 2);
  const mtls = events.find((e) => e.user !== null) as Record<string, unknown>;
  assert.equal(mtls.user, 'johanna@corelight.com');
  assert.equal(mtls.user_from, 'certificate');
  assert.equal(mtls.service, 'certauth.idrix.fr');
  assert.equal(mtls.certificate_visibility, 'present');
  assert.equal((mtls.source as { format: string }).format, 'pcap');
  assert.equal((mtls.tls as { ja3: string }).ja3, '579ccef312d18482fc42e2b822ca2430');
  const tls13 = events.find((e) => e !== mtls) as Record<string, unknown>;
  assert.equal(tls13.certificate_visibility, 'not_visible');
  assert.equal((tls13.tls as { version: string }).version, 'TLS 1.3');
});

test('gzip-compressed capture is detected and read', async () => {
  const gz = join(tmp, 'client-certificate.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(ZEEK_CLIENT_CERT)));
  const r = await runCli(['normalize', gz]);
  assert.equal(r.code, 0, r.stderr);
  const events = parseLines<{ user: string }>(r.stdout);
  assert.equal(events.length, 1);
  assert.equal(events[0].user, 'johanna@corelight.com');
  const p = await pcapJson([gz]);
  assert.equal(p.records.length, 1);
});

test('truncated capture: sessions before the cut are kept, a truncated-capture diagnostic, exit 0', async () => {
  const whole = readFileSync(SURICATA_CLIENT_AUTH);
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 37));
  const p = await pcapJson([cut]);
  assert.equal(p.code, 0);
  assert.match(p.stderr, /truncated-capture/);
  assert.equal(p.records.length, 1);
  assert.equal(p.records[0].client_certificates?.[0].serial, 'c7d4288b80e01e27');
  const a = await runCli(['analyze', '--output', 'json', cut]);
  assert.equal(a.code, 0);
  assert.match(a.stderr, /truncated-capture/);
});

test('a non-capture file named .pcap: clear diagnostic, exit 3 when nothing was readable', async () => {
  const fake = join(tmp, 'notes.pcap');
  writeFileSync(fake, 'this is not a capture\nbut a text file\n');
  const p = await runCli(['pcap', '--output', 'json', fake]);
  assert.equal(p.code, 3);
  assert.match(p.stderr, /not a pcap or pcapng capture/);
  assert.ok(!/\n\s+at /.test(p.stderr), 'no stack trace');
  const a = await runCli(['analyze', '--output', 'json', fake]);
  assert.equal(a.code, 3);
  assert.match(a.stderr, /named like a capture but is not pcap or pcapng/);
  // With one good capture beside it, the run succeeds and reports the bad file.
  const mixed = await runCli(['pcap', '--output', 'json', fake, ZEEK_CLIENT_CERT]);
  assert.equal(mixed.code, 0);
  assert.equal(parseLines(mixed.stdout).length, 1);
  assert.match(mixed.stderr, /not-a-capture/);
});

test('--format pcap on stdin is refused with a diagnostic (exit 3)', async () => {
  const r = await runCli(['analyze', '--format', 'pcap', '--output', 'json', '-'], { stdin: readFileSync(ZEEK_CLIENT_CERT) });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /from stdin is not supported/);
});

test('table output and the stderr summary', async () => {
  const r = await runCli(['pcap', '--output', 'table', ZEEK_CLIENT_CERT, `${REAL}zeek/Traces/tls/ssl-v2.pcap`]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /certauth\.idrix\.fr/);
  assert.match(r.stdout, /CN=johanna@corelight\.com/);
  assert.match(r.stderr, /1 TLS session\(s\) from 2\/2 capture file\(s\)/);
  assert.match(r.stderr, /conversations ignored: sslv2-hello 1/);
});
