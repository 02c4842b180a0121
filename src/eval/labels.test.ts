// labels.json validation: good files parse; every malformed one is refused with the field named.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CertsignalError } from '../errors.ts';
import { loadLabels, parseLabels } from './labels.ts';

function doc(patch: (d: Record<string, any>) => void = () => {}): string {
  const d: Record<string, any> = {
    version: 1,
    generator: 'certsignal simulate',
    seed: '1',
    start: '2026-03-02T00:00:00.000Z',
    end: '2026-03-16T00:00:00.000Z',
    days: 14,
    formats: ['ecs'],
    attacks: [
      {
        id: 'atk-01',
        type: 'churn-after-key-theft',
        start: '2026-03-04T13:00:00.000Z',
        end: '2026-03-04T13:40:00.000Z',
        users: ['alice'],
        devices: ['dev-1'],
        cert_sha256: ['ab'],
        spki_sha256: [],
        source_ips: ['198.51.100.7'],
        expected_rules: ['cert-churn'],
        description: 'four new certificates',
      },
    ],
    benign: [
      { id: 'ben-01', behaviour: 'travel', start: '2026-03-05T00:00:00.000Z', end: '2026-03-06T00:00:00.000Z', users: ['bob'] },
    ],
  };
  patch(d);
  return JSON.stringify(d);
}

function refused(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseLabels(text),
    (e: unknown) => e instanceof CertsignalError && pattern.test(e.message),
  );
}

test('a version 1 labels.json parses, with times as epoch ms and absent entity lists as []', () => {
  const labels = parseLabels(doc());
  assert.equal(labels.attacks.length, 1);
  const a = labels.attacks[0];
  assert.equal(a.startMs, Date.parse('2026-03-04T13:00:00.000Z'));
  assert.deepEqual(a.expected_rules, ['cert-churn']);
  assert.deepEqual(labels.benign[0].devices, []);
  assert.deepEqual(labels.benign[0].spki_sha256, []);
  assert.equal(labels.seed, '1');
});

test('malformed labels are refused with the offending field named', () => {
  refused('{not json', /labels\.json: not valid JSON/);
  refused('[]', /\(root\): expected a JSON object/);
  refused(
    doc((d) => {
      d.version = 2;
    }),
    /version: expected 1, got 2/,
  );
  refused(
    doc((d) => {
      delete d.attacks;
    }),
    /attacks: missing/,
  );
  refused(
    doc((d) => {
      d.attacks[0].start = 'yesterday';
    }),
    /attacks\[0\]\.start: not an ISO 8601 time/,
  );
  refused(
    doc((d) => {
      delete d.attacks[0].type;
    }),
    /attacks\[0\]\.type: missing/,
  );
  refused(
    doc((d) => {
      delete d.attacks[0].expected_rules;
    }),
    /attacks\[0\]\.expected_rules: missing \(use \[\] when empty\)/,
  );
  refused(
    doc((d) => {
      d.attacks[0].users = 'alice';
    }),
    /attacks\[0\]\.users: expected an array of strings/,
  );
  refused(
    doc((d) => {
      d.attacks[0].cert_sha256 = ['ab', 7];
    }),
    /attacks\[0\]\.cert_sha256\[1\]: expected a string/,
  );
  refused(
    doc((d) => {
      d.attacks[0].end = '2026-03-04T12:00:00.000Z';
    }),
    /attacks\[0\]\.end: before attacks\[0\]\.start/,
  );
  refused(
    doc((d) => {
      d.benign[0].id = 'atk-01';
    }),
    /benign\[0\]\.id: duplicate id "atk-01"/,
  );
  refused(
    doc((d) => {
      delete d.benign[0].behaviour;
    }),
    /benign\[0\]\.behaviour: missing/,
  );
  refused(
    doc((d) => {
      d.benign = {};
    }),
    /benign: expected an array/,
  );
  refused(
    doc((d) => {
      delete d.end;
    }),
    /: end: missing/,
  );
});

test('an empty expected_rules list is valid (an attack no current rule targets)', () => {
  const labels = parseLabels(
    doc((d) => {
      d.attacks[0].expected_rules = [];
    }),
  );
  assert.deepEqual(labels.attacks[0].expected_rules, []);
});

test('expected_severity is optional: absent or null means no promise; a valid one is kept', () => {
  assert.equal(parseLabels(doc()).attacks[0].expected_severity, null);
  const nulled = parseLabels(
    doc((d) => {
      d.attacks[0].expected_severity = null;
    }),
  );
  assert.equal(nulled.attacks[0].expected_severity, null);
  for (const severity of ['low', 'medium', 'high', 'critical']) {
    const labels = parseLabels(
      doc((d) => {
        d.attacks[0].expected_severity = severity;
      }),
    );
    assert.equal(labels.attacks[0].expected_severity, severity);
  }
});

test('a malformed expected_severity is refused with the attack and field named', () => {
  refused(
    doc((d) => {
      d.attacks[0].expected_severity = 'severe';
    }),
    /labels\.json: attacks\[0\]\.expected_severity: expected one of low, medium, high, critical, got "severe"/,
  );
  refused(
    doc((d) => {
      d.attacks[0].expected_severity = 3;
    }),
    /attacks\[0\]\.expected_severity: expected one of .*, got 3/,
  );
  // Severities are lower case, as in alerts.
  refused(
    doc((d) => {
      d.attacks[0].expected_severity = 'High';
    }),
    /attacks\[0\]\.expected_severity: .*got "High"/,
  );
});

test('a missing labels.json is an error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-labels-'));
  try {
    const path = join(dir, 'labels.json');
    assert.throws(
      () => loadLabels(path),
      (e: unknown) => e instanceof CertsignalError && e.message.startsWith(`${path}: not found`),
    );
    writeFileSync(
      path,
      doc((d) => {
        d.attacks[0].id = '';
      }),
    );
    assert.throws(
      () => loadLabels(path),
      (e: unknown) => e instanceof CertsignalError && e.message === `${path}: attacks[0].id: expected a non-empty string`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
