// AD CS events as Winlogbeat / Elastic Agent NDJSON. The real T1649 XML captures (splunk
// attack_data, MANIFEST §7a) are converted here, at test time, into the JSON shape Winlogbeat
// writes (from the XML reader's own output, into a temp file); the JSON path must then give the
// very same Observations as the XML path, be detected as adcs rather than ECS, and fire the same
// requester-subject-mismatch alerts end to end. The ECS source, meanwhile, must pass over
// Windows event records (counted, with a pointer to --format adcs) instead of inventing logins.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import type { Observation } from '../../../src/schema/event.ts';
import { adcsSource } from '../../../src/sources/adcs/source.ts';
import { nextEventStart, parseWinEvent, type WinEvent } from '../../../src/sources/adcs/xml.ts';
import { ecsSource } from '../../../src/sources/ecs/source.ts';
import { type FileStats, readObservations } from '../../../src/sources/read.ts';
import { parseLines, REPO, runCli, SHARED } from '../../helpers/cli.ts';
import { diagList, feed } from '../feed.ts';

const T1649 = join(SHARED, 'realdata/splunk-attack_data/T1649');
const TMP = mkdtempSync(join(tmpdir(), 'certsignal-winlogbeat-'));

/** Every `<Event>` of an XML capture, as the XML reader parses it. */
function xmlEvents(file: string): WinEvent[] {
  const text = readFileSync(join(T1649, file), 'utf8');
  const out: WinEvent[] = [];
  for (let i = nextEventStart(text); i >= 0; ) {
    const end = text.indexOf('</Event>', i);
    const ev = parseWinEvent(text.slice(i, end + '</Event>'.length));
    assert.ok(ev, `event at offset ${i} parses`);
    out.push(ev);
    i = nextEventStart(text, end);
  }
  return out;
}

/**
 * One event as Winlogbeat 8 writes it: `@timestamp` is TimeCreated at millisecond precision,
 * the header under `winlog`, the named values under `winlog.event_data`, plus the ECS `event`,
 * `host` and `ecs` objects. `stringIds` writes event_id as a string (Elastic Agent does).
 */
function winlogbeat(ev: WinEvent, stringIds = false): Record<string, unknown> {
  const time = new Date(Date.parse((ev.systemTime ?? '').replace(/(\.\d{3})\d+/, '$1'))).toISOString();
  return {
    '@timestamp': time,
    ecs: { version: '8.0.0' },
    agent: { type: 'winlogbeat', version: '8.12.0' },
    event: { code: String(ev.eventId), provider: ev.provider, kind: 'event', created: '2026-01-01T00:00:00.000Z' },
    host: { name: 'not-the-computer.example' },
    winlog: {
      event_id: stringIds ? String(ev.eventId) : ev.eventId,
      provider_name: ev.provider,
      channel: ev.channel,
      computer_name: ev.computer,
      record_id: ev.recordId,
      event_data: Object.fromEntries(ev.data),
    },
  };
}

function writeNdjson(name: string, records: Record<string, unknown>[]): string {
  const path = join(TMP, name);
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

async function read(path: string, format?: string) {
  const diagnostics = new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations([path], { diagnostics, format, onFile: (s) => stats.push(s) })) obs.push(...b);
  return { obs, stats: stats[0], diagnostics };
}

/** An Observation without where it was read from (file and line differ between the two shapes). */
function content(o: Observation): Omit<Observation, 'file' | 'line'> {
  const { file: _file, line: _line, ...rest } = o;
  return rest;
}

const byRecord = (a: Pick<Observation, 'record_id' | 'ts'>, b: Pick<Observation, 'record_id' | 'ts'>) =>
  String(a.record_id).localeCompare(String(b.record_id)) || (a.ts ?? 0) - (b.ts ?? 0);

describe('adcs: Winlogbeat NDJSON gives the same Observations as the XML', () => {
  for (const [file, stringIds] of [
    ['certify_esc1_abuse_winsecurity.xml.log', false],
    ['certipy_esc1_abuse.xml.log', true],
    ['certify_esc1_abuse_bulk_adcs.xml.log', false],
  ] as const) {
    test(`${file} (event_id as ${stringIds ? 'string' : 'number'})`, async () => {
      const events = xmlEvents(file);
      const json = writeNdjson(
        file.replace('.xml.log', '.ndjson'),
        events.map((e) => winlogbeat(e, stringIds)),
      );
      const x = await read(join(T1649, file));
      const j = await read(json);
      assert.equal(j.stats.format, 'adcs', 'detected as adcs, not ecs');
      assert.ok(x.obs.length >= 7, `the capture has CA events: ${x.obs.length}`);
      assert.deepEqual(j.obs.map(content).sort(byRecord), x.obs.map(content).sort(byRecord));
      for (const o of j.obs) {
        assert.equal(o.format, 'adcs');
        assert.equal(o.file, json);
      }
      // Lines: the n-th JSON line is the n-th event.
      assert.deepEqual(
        j.obs.map((o) => o.line),
        j.obs.map((o) => events.findIndex((e) => e.recordId === o.record_id) + 1),
      );
      // Same records and ignored (Sysmon / 4104 in the bulk file), no diagnostics on either side.
      assert.deepEqual(
        { records: j.stats.records, ignored: j.stats.ignored, skipped: j.stats.skipped },
        { records: events.length, ignored: x.stats.ignored, skipped: 0 },
      );
      assert.deepEqual(diagList(j.diagnostics), []);
      assert.deepEqual(diagList(x.diagnostics), []);
    });
  }
});

test('adcs JSON: the ESC1 fields read from winlog.event_data, computer_name as the CA (not host.name)', async () => {
  const events = xmlEvents('certify_esc1_abuse_winsecurity.xml.log');
  const { obs } = await read(
    writeNdjson(
      'fields.ndjson',
      events.map((e) => winlogbeat(e)),
    ),
  );
  const esc1 = obs.filter((o) => o.kind === 'issuance' && o.ca?.requested_san.includes('upn:victim_admin_user'));
  assert.equal(esc1.length, 5);
  for (const o of esc1) {
    assert.equal(o.ca?.requester, 'attack_range\\attack_user');
    assert.equal(o.ca?.template, 'VulnerableTemplate_ESC1');
    assert.equal(o.ca?.ca, 'cert_authority.attack_range.local');
    assert.equal(o.user, 'victim_admin_user');
    assert.equal(o.client_certificate?.subject, 'CN=attack_user');
  }
  const pkinit = obs.find((o) => o.kind === 'authentication');
  assert.equal(pkinit?.client_certificate?.sha1, 'F4B9F00E378950153F18C0E8C5F38DBCF1712345');
  assert.equal(pkinit?.source_port, 49314);
});

const CA_DATA = {
  RequestId: '12',
  Requester: 'CORP\\mallory',
  Attributes: 'CertificateTemplate:User\nSAN:upn=administrator%40corp.example&dns=ws7.corp.example',
  Disposition: '3',
  SubjectKeyIdentifier: 'ab cd',
  Subject: 'CN=mallory',
};

test('adcs JSON: dotted keys, string ids, other events ignored, missing event_data and bad lines are diagnostics', () => {
  const nested = {
    '@timestamp': '2026-03-01T10:00:00.123Z',
    winlog: {
      event_id: 4887,
      provider_name: 'Microsoft-Windows-Security-Auditing',
      computer_name: 'ca01',
      record_id: 7,
      event_data: CA_DATA,
    },
  };
  const dotted: Record<string, unknown> = {
    '@timestamp': '2026-03-01T10:00:00.123Z',
    'winlog.event_id': '4887',
    'winlog.provider_name': 'Microsoft-Windows-Security-Auditing',
    'winlog.computer_name': 'ca01',
    'winlog.record_id': '7',
  };
  for (const [k, v] of Object.entries(CA_DATA)) dotted[`winlog.event_data.${k}`] = v;
  const lines = [
    JSON.stringify(nested),
    JSON.stringify(dotted),
    // Only event.code / event.provider (no winlog.event_id): still read.
    JSON.stringify({
      '@timestamp': '2026-03-01T10:00:00.123Z',
      event: { code: '4887', provider: 'Microsoft-Windows-Security-Auditing' },
      'winlog.computer_name': 'ca01',
      'winlog.record_id': 7,
      'winlog.event_data': CA_DATA,
    }),
    JSON.stringify({
      '@timestamp': '2026-03-01T10:00:01Z',
      'winlog.event_id': 4887,
      'winlog.provider_name': 'Microsoft-Windows-Security-Auditing',
    }),
    JSON.stringify({
      '@timestamp': '2026-03-01T10:00:02Z',
      winlog: { event_id: 4688, provider_name: 'Microsoft-Windows-Security-Auditing', event_data: {} },
    }),
    JSON.stringify({
      '@timestamp': '2026-03-01T10:00:02Z',
      winlog: { event_id: 1, provider_name: 'Microsoft-Windows-Sysmon', event_data: { Image: 'x' } },
    }),
    // A 4768 without a certificate (password pre-auth): ignored, as in the XML path.
    JSON.stringify({
      '@timestamp': '2026-03-01T10:00:03Z',
      winlog: { event_id: 4768, event_data: { TargetUserName: 'bob', Status: '0x0' } },
    }),
    JSON.stringify({ '@timestamp': 'yesterday', winlog: { event_id: 4886, event_data: CA_DATA } }),
    JSON.stringify({ '@timestamp': '2026-03-01T10:00:04Z', winlog: { provider_name: 'Microsoft-Windows-Security-Auditing' } }),
    '{"winlog": ',
    '[1,2]',
  ];
  const r = feed(adcsSource, lines, { file: 'wlb.ndjson' });
  assert.equal(r.observations.length, 3);
  const [a, b, c] = r.observations.map(content);
  assert.deepEqual(b, a, 'dotted keys and a string event_id read as the nested record');
  assert.deepEqual(c, a, 'event.code / event.provider stand in for winlog.event_id / provider_name');
  assert.equal(a.kind, 'issuance');
  assert.equal(a.ts, Date.parse('2026-03-01T10:00:00.123Z'));
  assert.equal(a.record_id, '7');
  assert.equal(a.user, 'administrator@corp.example');
  assert.equal(a.device, 'ws7.corp.example');
  assert.equal(a.ca?.ca, 'ca01');
  assert.equal(a.ca?.requester, 'CORP\\mallory');
  assert.deepEqual(a.ca?.requested_san, ['upn:administrator@corp.example', 'dns:ws7.corp.example']);
  assert.deepEqual(diagList(r.diagnostics), [
    'error:missing-field@4:winlog.event_data',
    'error:bad-timestamp@8:@timestamp',
    'error:missing-field@9:winlog.event_id',
    'error:invalid-json@10',
    'error:invalid-json@11',
  ]);
  for (const k of r.diagnostics.kept) assert.equal(k.file, 'wlb.ndjson');
  assert.deepEqual(r.counts, { records: 11, ignored: 3 });
});

test('detection: Winlogbeat Security-Auditing lines score above ECS (nested and dotted); ECS samples stay ECS', () => {
  const nested = JSON.stringify(winlogbeat(xmlEvents('certipy_esc1_abuse.xml.log')[1]));
  const dotted = JSON.stringify({
    '@timestamp': '2026-03-01T10:00:00Z',
    'ecs.version': '8.0.0',
    'winlog.event_id': 4887,
    'winlog.provider_name': 'Microsoft-Windows-Security-Auditing',
    'winlog.event_data': CA_DATA,
  });
  for (const l of [nested, dotted]) {
    const sample = { name: 'x.ndjson', firstLines: [l] };
    assert.ok(adcsSource.detect(sample) > ecsSource.detect(sample), l.slice(0, 80));
    assert.ok(ecsSource.detect(sample) >= 0.95, 'ECS would have claimed it');
  }
  // A Sysmon-only Winlogbeat line is no AD CS file.
  const sysmon = JSON.stringify(winlogbeat(xmlEvents('certify_esc1_abuse_sysmon.xml.log')[0]));
  assert.equal(adcsSource.detect({ name: 'x.ndjson', firstLines: [sysmon] }), 0);
  // The demo's real ECS gateway records.
  const demo = readFileSync(join(REPO, 'examples/demo/events.ndjson'), 'utf8').split('\n').filter(Boolean);
  assert.equal(adcsSource.detect({ name: 'events.ndjson', firstLines: demo.slice(0, 20) }), 0);
});

test('ecs: examples/demo/events.ndjson is still read as ECS, every record an observation, none ignored', async () => {
  const path = join(REPO, 'examples/demo/events.ndjson');
  const records = readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  const { obs, stats, diagnostics } = await read(path);
  assert.equal(stats.format, 'ecs');
  assert.equal(stats.ignored, 0);
  assert.equal(obs.length + stats.skipped, records);
  assert.ok(obs.filter((o) => o.kind === undefined || o.kind === 'authentication').length > 0);
  assert.equal(diagnostics.kept.filter((d) => d.reason === 'ignored-event-type').length, 0);
});

test('ecs: Windows event records are ignored and counted, not made into logins; TLS records beside them still read', async () => {
  // Sysmon first (23 events, more than the detection sample), then the Security events: detected as ECS.
  const sysmon = xmlEvents('certify_esc1_abuse_sysmon.xml.log').map((e) => winlogbeat(e));
  const security = xmlEvents('certify_esc1_abuse_winsecurity.xml.log').map((e) => winlogbeat(e));
  const tls = {
    '@timestamp': '2026-03-01T10:00:00Z',
    ecs: { version: '8.11.0' },
    user: { name: 'alice' },
    source: { ip: '10.0.0.5' },
    tls: { version: '1.3', version_protocol: 'tls', client: { hash: { sha256: 'a'.repeat(64) } } },
  };
  assert.ok(sysmon.length >= 20);
  const path = writeNdjson('mixed.ndjson', [...sysmon, ...security, tls]);
  const { obs, stats, diagnostics } = await read(path);
  assert.equal(stats.format, 'ecs');
  assert.equal(obs.length, 1, 'only the TLS record');
  assert.equal(obs[0].user, 'alice');
  assert.equal(stats.ignored, sysmon.length + security.length);
  assert.equal(stats.records, sysmon.length + security.length + 1);
  const warn = diagnostics.kept.filter((d) => d.reason === 'ignored-event-type');
  assert.equal(warn.length, 1);
  assert.equal(warn[0].line, 1);
  assert.equal(warn[0].message, `${sysmon.length + security.length} Windows events ignored (use --format adcs)`);

  // A winlog record that does carry TLS data (a shipper enriching) is still read by ECS.
  const r = feed(ecsSource, [JSON.stringify({ ...tls, winlog: { event_id: 1 } })]);
  assert.equal(r.observations.length, 1);
  assert.deepEqual(r.counts, { records: 1, ignored: 0 });

  // Forced --format adcs on the same file reads the 13 CA / PKINIT events.
  const forced = await read(path, 'adcs');
  assert.equal(forced.obs.length, security.length);
  assert.equal(forced.stats.ignored, sysmon.length);
  assert.equal(diagList(forced.diagnostics).length, 1, 'the TLS line: no winlog.event_id');
});

describe('adcs JSON end to end', () => {
  for (const [file, victim, requester] of [
    ['certify_esc1_abuse_winsecurity.xml.log', 'victim_admin_user', 'attack_range\\attack_user'],
    ['certipy_esc1_abuse.xml.log', 'victim_admin', 'attack_range\\attacker'],
  ] as const) {
    test(`analyze on ${file} as Winlogbeat JSON fires requester-subject-mismatch requested-san and used, as on the XML`, async () => {
      const json = writeNdjson(
        `e2e-${file}.ndjson`,
        xmlEvents(file).map((e) => winlogbeat(e)),
      );
      const summary = async (path: string) => {
        const r = await runCli(['analyze', '--output', 'json', path]);
        assert.equal(r.code, 0, r.stderr);
        return parseLines<{ rule?: string; user: string; severity: string; evidence: Record<string, unknown> }>(r.stdout)
          .filter((a) => a.rule === 'requester-subject-mismatch')
          .map((a) => ({
            variant: a.evidence.variant,
            user: a.user,
            severity: a.severity,
            requester: (a.evidence.issuance as { requester?: string } | undefined)?.requester ?? null,
          }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      };
      const fromJson = await summary(json);
      assert.ok(fromJson.some((a) => a.variant === 'requested-san' && a.user === victim && a.requester === requester));
      assert.equal(fromJson.filter((a) => a.variant === 'used' && a.user === victim).length, 1);
      assert.deepEqual(fromJson, await summary(join(T1649, file)));
    });
  }
});
