import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../tests/helpers/events.ts';
import { createRootCA } from '../../tests/helpers/pki.ts';
import { buildAlert } from '../score/alert.ts';
import { Pseudonymiser } from './pseudonymise.ts';

const KEY = 'test-key-0123456789abcdef';

async function alertFor(user: string) {
  const ca = await createRootCA('O=Example Corp, CN=Corp Issuing CA');
  const cert = await ca.issue({ subject: `O=Example Corp, OU=Sales, CN=${user}`, email: [`${user}@example.com`] });
  const event = makeEvent({ user, device: 'lt-alice-01', cert, source_ip: '10.1.2.3' });
  return buildAlert(
    {
      rule: 'expired-cert',
      summary: `Certificate "${event.certificate?.subject}" used by ${user} from lt-alice-01`,
      dedup_key: 'k',
      event,
      evidence: {
        certificate: {
          subject: event.certificate?.subject,
          issuer: event.certificate?.issuer,
          san_email: [`${user}@example.com`],
        },
      },
    },
    {
      entity: { kind: 'user', id: user },
      weight: 70,
      prior: 0,
      score: 70,
      signalsInWindow: 1,
      severity: 'medium',
      action: 'step-up',
      title: 't',
    },
  );
}

test('personal identifiers disappear from every field, summary included; CA names, digests and org stay', async () => {
  const alert = await alertFor('alice.smith');
  const out = new Pseudonymiser(KEY).alert(alert);
  const text = JSON.stringify(out);
  assert.doesNotMatch(text, /alice/i);
  assert.doesNotMatch(text, /lt-alice-01/);
  assert.match(out.user ?? '', /^anon-[0-9a-f]{12}$/);
  assert.equal(out.entity.id, out.user);
  assert.match(out.summary, /anon-[0-9a-f]{12}/);
  assert.equal(out.cert_sha256, alert.cert_sha256);
  assert.equal(out.issuer, alert.issuer);
  assert.match(text, /OU=Sales/);
  assert.match(text, /Corp Issuing CA/);
});

test('tokens are stable across alerts and runs with the same key, and differ with another key', async () => {
  const a = new Pseudonymiser(KEY).alert(await alertFor('bob'));
  const b = new Pseudonymiser(KEY).alert(await alertFor('bob'));
  const c = new Pseudonymiser('another-key-0123456789').alert(await alertFor('bob'));
  assert.equal(a.user, b.user);
  assert.notEqual(a.user, c.user);
  assert.throws(() => new Pseudonymiser('short'), /16 bytes/);
});
