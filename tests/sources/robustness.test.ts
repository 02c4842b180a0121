// Bad input never crashes a source: every line source, fed arbitrary text, JSON of the wrong shape,
// and mutations of its own valid-looking lines, returns observations or reports diagnostics — it
// never throws. (A throw would end the whole run; a diagnostic costs one line.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/config.ts';
import { RULES } from '../../src/detect/registry.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import { Normalizer } from '../../src/normalize/normalize.ts';
import { createEngine } from '../../src/pipeline/setup.ts';
import { SOURCES } from '../../src/sources/registry.ts';

/** Header lines some sources need before data lines make sense (Zeek TSV, CSV formats). */
const PREAMBLES: Record<string, string[]> = {
  'zeek-ssl': [
    '#separator \\x09',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tversion\tclient_cert_chain_fps',
    '#types\ttime\tstring\taddr\tport\tstring\tvector[string]',
  ],
  'zeek-x509': [
    '#separator \\x09',
    '#fields\tts\tfingerprint\tcertificate.subject\tcertificate.serial',
    '#types\ttime\tstring\tstring\tstring',
  ],
  'zeek-conn': [
    '#separator \\x09',
    '#fields\tts\tuid\tservice\torig_bytes\tresp_bytes',
    '#types\ttime\tstring\tset[string]\tcount\tcount',
  ],
  'ca-csv': ['time,event,serial,subject,issuer,san,requester,requested_san,pem'],
  'mdm-csv': ['time,device,action,user,platform'],
};

/** JSON values of every shape, with the keys the JSON sources look at, so parsers get past the first check. */
const KEYS = [
  '@timestamp',
  'timestamp',
  'time',
  'start_time',
  'msec',
  'time_iso8601',
  'event_type',
  'tls',
  'flow_id',
  'src_ip',
  'user',
  'device',
  'action',
  'source',
  'destination',
  'event',
  'ssl_client_s_dn',
  'ssl_client_escaped_cert',
  'ssl_client_verify',
  'downstream_peer_cert',
  'x_forwarded_client_cert',
  'response_code',
  'path',
  'request',
  'response',
  'certificate',
  'serial',
  'subject',
  'ts',
  'uid',
  'fingerprint',
];
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.constantFrom('-', '', '2026-03-02T10:00:00Z', '1772445600', 'FAILED:x', 'SUCCESS', 'tls', 'ssl', '%2D%2D%2D%2D%2DBEGIN'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
  ),
})).value;
const jsonLine = fc.dictionary(fc.constantFrom(...KEYS), jsonValue, { maxKeys: 10 }).map((o) => JSON.stringify(o));
const anyLine = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  jsonLine,
  jsonLine.map((l) => l.slice(0, Math.max(1, l.length >> 1))),
);
const xmlLine = fc
  .tuple(fc.constantFrom('4886', '4887', '4888', '4870', '4768', 'x'), fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }))
  .map(
    ([id, a, b]) =>
      `<Event><System><EventID>${id}</EventID><TimeCreated SystemTime='${a}'/></System><EventData><Data Name='Requester'>${b}</Data><Data Name='Attributes'>SAN:upn=${a}</Data></EventData></Event>`,
  );

// Every rule on, including the opt-in ones, with every fact true so no rule sits out.
const CONFIG = parseConfig(`rules:\n${RULES.map((r) => `  ${r.meta.id}: { enabled: true }`).join('\n')}\n`, 'robustness', {
  rules: RULES,
});
const FACTS = { trustAnchorsConfigured: true, crlsConfigured: true, assetsConfigured: true, identitiesConfigured: true };

for (const source of SOURCES) {
  test(`${source.id}: arbitrary lines give observations or diagnostics, never a throw`, () => {
    const normalizer = new Normalizer({ diagnostics: new Diagnostics() });
    fc.assert(
      fc.property(fc.array(fc.oneof(anyLine, xmlLine), { minLength: 1, maxLength: 8 }), (lines) => {
        const diagnostics = new Diagnostics();
        const parser = source.open({ file: 'fuzz.log', diagnostics, shared: new Map() });
        const all = [...(PREAMBLES[source.id] ?? []), ...lines];
        const out = [];
        all.forEach((text, i) => {
          const r = parser.line(text, i + 1);
          if (Array.isArray(r)) out.push(...r);
          else if (r) out.push(r);
        });
        const tail = parser.end?.();
        if (tail) out.push(...tail);
        // Whatever a source produced must survive normalize and every rule too.
        const engine = createEngine(CONFIG, FACTS, { persistent: false });
        for (const o of out) {
          const n = normalizer.normalize(o);
          if (n) engine.process(n.event);
        }
        engine.finish();
        parser.counts?.();
      }),
      { numRuns: 300, seed: 4242 },
    );
    assert.ok(true);
  });
}

test('a time outside the representable date range is a bad-timestamp skip naming the line, not a crash', () => {
  const diagnostics = new Diagnostics();
  const normalizer = new Normalizer({ diagnostics });
  const ecs = SOURCES.find((s) => s.id === 'ecs');
  assert.ok(ecs);
  const parser = ecs.open({ file: 'far.ndjson', diagnostics, shared: new Map() });
  const lines = [
    '{"@timestamp":-8640000000000001,"user":{"name":"a"}}',
    '{"@timestamp":"2026-03-02T10:00:00Z","user":{"name":"b"}}',
  ];
  const events = lines.flatMap((l, i) => {
    const r = parser.line(l, i + 1);
    const obs = Array.isArray(r) ? r : r ? [r] : [];
    return obs.map((o) => normalizer.normalize(o)).filter((n) => n !== null);
  });
  assert.deepEqual(
    events.map((e) => e.event.user),
    ['b'],
  );
  assert.ok(
    diagnostics.kept.some((d) => d.reason === 'bad-timestamp' && d.file === 'far.ndjson' && d.line === 1),
    JSON.stringify(diagnostics.kept),
  );
});
