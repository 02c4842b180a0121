// The CA-side rules end to end through `certsignal analyze --output json`: the real AD CS ESC1
// captures (splunk attack_data T1649, Certify and Certipy) fire requester-subject-mismatch on the
// 4887 and its `used` variant on the 4768 PKINIT; and the seed 002 case study as a CA issuance CSV
// + an MDM enrollment CSV (certificates issued to a never-enrolled device) reaches high through
// issuance-without-enrollment + cert-churn, while the enrolled devices stay quiet.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseLines, REPO, runCli, SHARED } from '../helpers/cli.ts';

const T1649 = `${SHARED}realdata/splunk-attack_data/T1649/`;
const ADCS_SOURCE = `${REPO}src/sources/adcs/source.ts`;
const skipAdcs = existsSync(ADCS_SOURCE) ? false : 'the adcs source (src/sources/adcs/) does not exist yet';

interface AlertLine {
  type?: string;
  rule?: string;
  severity: string;
  score: number;
  user: string | null;
  time: string;
  entity: { kind: string; id: string };
  evidence: Record<string, unknown>;
}

const SEVERE = new Set(['high', 'critical']);

async function analyze(files: string[]): Promise<{ alerts: AlertLine[]; stderr: string }> {
  const r = await runCli(['analyze', '--output', 'json', ...files]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = parseLines<AlertLine>(r.stdout).filter((a) => a.rule !== undefined);
  return { alerts, stderr: r.stderr };
}

describe('CA-side rules end to end', () => {
  for (const [file, victim, requester] of [
    ['certify_esc1_abuse_winsecurity.xml.log', 'victim_admin_user', 'attack_range\\attack_user'],
    ['certipy_esc1_abuse.xml.log', 'victim_admin', 'attack_range\\attacker'],
  ] as const) {
    test(`T1649 ${file}: 4887 with a SAN UPN ≠ requester fires requested-san; the 4768 PKINIT for that UPN fires used, high`, {
      skip: skipAdcs,
    }, async () => {
      const { alerts, stderr } = await analyze([`${T1649}${file}`]);
      const rsm = alerts.filter((a) => a.rule === 'requester-subject-mismatch');
      const requested = rsm.filter((a) => a.evidence.variant === 'requested-san' && a.user === victim);
      assert.ok(requested.length >= 1, 'requested-san for the victim UPN');
      for (const a of requested) {
        assert.equal((a.evidence.issuance as { requester: string }).requester, requester);
        assert.equal(a.evidence.target_account, victim);
      }
      const used = rsm.filter((a) => a.evidence.variant === 'used');
      assert.equal(used.length, 1, 'one 4768, one use');
      assert.equal(used[0].user, victim);
      assert.deepEqual(used[0].entity, { kind: 'user', id: victim });
      assert.equal(used[0].evidence.matched_by, 'account', 'the 4887 logs no serial or thumbprint');
      assert.ok(SEVERE.has(used[0].severity), `issuance + use is high: ${used[0].severity} ${used[0].score}`);
      assert.ok(used[0].score > 80);
      // No MDM log was given: issuance-without-enrollment stays quiet and says so once.
      assert.equal(alerts.filter((a) => a.rule === 'issuance-without-enrollment').length, 0);
      assert.equal(stderr.match(/issuance-without-enrollment: \d+ issuance\(s\) not checked/g)?.length, 1);
    });
  }

  test('seed 002: four certificates issued to a never-enrolled device within 38 min reach high (issuance-without-enrollment 50 + cert-churn 40); enrolled devices stay quiet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certsignal-seed002-'));
    const mdm = join(dir, 'enrollments.csv');
    const ca = join(dir, 'issuance.csv');
    writeFileSync(
      mdm,
      [
        'time,device,action,user,platform,mdm,serial',
        '2026-01-02T08:00:00Z,lap-1,enrolled,alice,windows,Intune,HW-001',
        '2026-01-03T08:00:00Z,lap-2,enrolled,bob,macos,Intune,HW-002',
        // carol's laptop re-enrolls 5 min after its new certificate: within the grace period.
        '2026-01-05T10:05:00Z,lap-3,re-enrolled,carol,windows,Intune,HW-003',
        '',
      ].join('\n'),
    );
    const row = (time: string, serial: string, user: string, device: string) =>
      `${time},issued,${serial},CN=${device},"CN=Corp Device CA,O=Example",${user},${device},scep-connector,Device,corp-ca,${time},2027-01-01T00:00:00Z`;
    writeFileSync(
      ca,
      [
        'time,event,serial,subject,issuer,user,device,requester,template,ca,not_before,not_after',
        row('2026-01-02T08:05:00Z', '1a01', 'alice', 'lap-1'),
        row('2026-01-03T08:05:00Z', '1a02', 'bob', 'lap-2'),
        row('2026-01-05T09:00:00Z', '2b01', 'alice', 'dev-evil'),
        row('2026-01-05T09:10:00Z', '2b02', 'alice', 'dev-evil'),
        row('2026-01-05T09:20:00Z', '2b03', 'alice', 'dev-evil'),
        row('2026-01-05T09:38:00Z', '2b04', 'alice', 'dev-evil'),
        row('2026-01-05T10:00:00Z', '3c01', 'carol', 'lap-3'),
        row('2026-01-05T11:00:00Z', '1a03', 'bob', 'lap-2'),
        '',
      ].join('\n'),
    );
    const { alerts, stderr } = await analyze([ca, mdm]);
    assert.doesNotMatch(stderr, /no-enrollment-data/);
    const iwe = alerts.filter((a) => a.rule === 'issuance-without-enrollment');
    assert.equal(iwe.length, 1, JSON.stringify(iwe.map((a) => a.evidence.subject)));
    assert.deepEqual(iwe[0].evidence.subject, { kind: 'device', id: 'dev-evil' });
    assert.equal(iwe[0].time, '2026-01-05T09:00:00.000Z');
    const churn = alerts.filter((a) => a.rule === 'cert-churn');
    assert.equal(churn.length, 1);
    assert.equal(churn[0].user, 'alice');
    assert.equal(churn[0].evidence.from_issuance, 4);
    // 40 + 50 × 2^(−38/360) ≈ 86.5 > 80.
    assert.ok(SEVERE.has(churn[0].severity), `${churn[0].severity} ${churn[0].score}`);
    assert.ok(churn[0].score > 80 && churn[0].score < 91, String(churn[0].score));
    // Enrolled devices (bob's renewal-free reissue within 30 days, carol's re-enrollment in grace) stay quiet.
    assert.deepEqual(
      alerts.filter((a) => a.user !== 'alice').map((a) => `${a.rule} ${a.user}`),
      [],
    );
    // Connector-requested certificates are not requester/subject mismatches by default.
    assert.equal(alerts.filter((a) => a.rule === 'requester-subject-mismatch').length, 0);
  });
});
