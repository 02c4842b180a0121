// The Enricher end to end: CSV files, anchors and CRLs loaded from disk; events enriched with
// asset, identity, trust and revocation, through normalize's parsed certificate or the cache.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeEvent } from '../../tests/helpers/events.ts';
import { createRootCA, createSelfSignedLeaf } from '../../tests/helpers/pki.ts';
import { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import { CertificateCache, type ParsedCertificate } from '../normalize/certificate.ts';
import { Enricher } from './index.ts';

describe('Enricher', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-enrich-'));
  const root = await createRootCA('CN=Corp Root');
  const inter = await root.subordinate('CN=Corp Devices');
  const alice = await inter.issue({ subject: 'CN=alice' });
  const revoked = await inter.issue({ subject: 'CN=mallory' });
  const rogue = await createSelfSignedLeaf({ subject: 'CN=alice' });
  const anchors = join(dir, 'anchors.pem');
  writeFileSync(anchors, root.cert.pem + inter.cert.pem);
  const crl = join(dir, 'devices.crl');
  writeFileSync(crl, (await inter.crl([{ serial: revoked.serial }])).der);
  const assets = join(dir, 'assets.csv');
  writeFileSync(assets, 'asset_tag,assigned_to\nLT-1,alice\n');
  const identities = join(dir, 'ids.csv');
  writeFileSync(identities, 'user,kind,role,department,country,email\nAlice,human,engineer,R&D,DE,alice@corp\n');
  const cache = new CertificateCache();
  const diagnostics = new Diagnostics();
  const enricher = await Enricher.create({
    assets,
    identities,
    trustAnchors: anchors,
    crls: [crl],
    config: { enrichment: { asset_columns: { device_id: 'asset_tag', owner: 'assigned_to' } } },
    diagnostics,
    certCache: cache,
  });

  it('reports which sources are configured', () => {
    assert.deepEqual(enricher.facts, {
      trustAnchorsConfigured: true,
      crlsConfigured: true,
      assetsConfigured: true,
      identitiesConfigured: true,
      ocspConfigured: false,
    });
  });

  it('fills asset, identity (case-insensitively), trust and revocation', () => {
    const e = makeEvent({ cert: alice, user: 'alice', device: 'lt-1' });
    cache.get(alice.pem); // what normalize does: the parse lands in the cache
    enricher.enrich(e);
    assert.equal(e.enrichment.asset?.owner, 'alice');
    assert.equal(e.enrichment.identity?.role, 'engineer');
    assert.equal(e.enrichment.trust?.status, 'trusted');
    assert.equal(e.enrichment.revocation?.status, 'good');
  });

  it('flags a revoked and a self-signed client certificate', () => {
    const r = makeEvent({ cert: revoked, at: Date.now() });
    enricher.enrich(r, cache.get(revoked.pem) as ParsedCertificate, []);
    assert.equal(r.enrichment.revocation?.status, 'revoked');
    assert.equal(r.enrichment.trust?.status, 'trusted');
    const s = makeEvent({ cert: rogue });
    enricher.enrich(s, cache.get(rogue.pem) as ParsedCertificate);
    assert.equal(s.enrichment.trust?.status, 'untrusted');
    assert.equal(s.enrichment.trust?.reason, 'self-signed');
    assert.equal(s.enrichment.revocation?.status, 'unknown');
  });

  it('leaves lookups null for unknown devices/users and marks events without certificate', () => {
    const e = makeEvent({ user: 'nobody', device: 'nothing' });
    enricher.enrich(e);
    assert.equal(e.enrichment.asset, null);
    assert.equal(e.enrichment.identity, null);
    assert.equal(e.enrichment.trust?.status, 'unknown');
    assert.equal(e.enrichment.revocation, null);
  });

  it('with nothing configured, enrich changes nothing and facts say so', async () => {
    const bare = await Enricher.create({});
    assert.deepEqual(bare.facts, {
      trustAnchorsConfigured: false,
      crlsConfigured: false,
      assetsConfigured: false,
      identitiesConfigured: false,
      ocspConfigured: false,
    });
    const e = makeEvent({ cert: alice, user: 'alice' });
    bare.enrich(e);
    assert.deepEqual(e.enrichment, { asset: null, identity: null, trust: null, revocation: null });
  });

  it('refuses a CRL it cannot verify (no anchors)', async () => {
    await assert.rejects(Enricher.create({ crls: [crl] }), (e: unknown) => e instanceof CertsignalError && e.code === 'E_CRL');
  });
});

it('an account derived from a certificate e-mail resolves to the directory account by e-mail', async () => {
  const identities = new Map([
    ['alice', { user: 'alice', kind: 'human', role: 'eng', department: 'R&D', country: 'DE', email: 'Alice@Corp.Example' }],
  ]);
  const enricher = new Enricher({ identities });
  const fromCert = makeEvent({ user: 'alice@corp.example', user_from: 'certificate' });
  enricher.enrich(fromCert);
  assert.equal(fromCert.user, 'alice');
  assert.equal(fromCert.enrichment.identity?.user, 'alice');
  const fromEvent = makeEvent({ user: 'alice@corp.example', user_from: 'event' });
  enricher.enrich(fromEvent);
  assert.equal(fromEvent.user, 'alice@corp.example', 'an account the gateway logged is kept as logged');
  assert.equal(fromEvent.enrichment.identity?.user, 'alice');
  const stranger = makeEvent({ user: 'alice@evil.example', user_from: 'certificate' });
  enricher.enrich(stranger);
  assert.equal(stranger.enrichment.identity, null);
});
