// OCSP on the wire (RFC 6960): build an OCSPRequest for one CertID (pkijs), and judge the bytes a
// responder sent back — responseStatus, BasicOCSPResponse, the signature (by the issuer, or a
// delegated responder certificate the issuer signed with id-kp-OCSPSigning), the SingleResponse
// for our CertID, the nonce, and freshness. Every failure is an `unknown` with a reason code;
// nothing here throws on bad bytes.
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  CertificateParseError,
  type DerNode,
  decodeName,
  decodeOid,
  derChildren,
  isIssuedBy,
  type ParsedCertificate,
  parseCertificate,
  readDer,
  readDerTime,
  type SignatureAlgorithm,
  verifySignedData,
} from '../../normalize/certificate.ts';
import type { OcspResult } from '../../schema/event.ts';
import { CERTID_HASHES, type CertIdInput, certIdHashes, publicKeyBits, SHA1_OID } from './certid.ts';

const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';
const BASIC_OID = '1.3.6.1.5.5.7.48.1.1';

/** OCSPResponseStatus values (RFC 6960 §4.2.1); 4 is not used. */
const RESPONSE_STATUS: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

/** RFC 5280 CRLReason names by code. */
const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  null,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** An `unknown` result with its reason code and detail. */
export function unknownResult(reason: string, detail: string, url: string | null = null): OcspResult {
  return {
    status: 'unknown',
    unknown_reason: reason,
    detail,
    responder_url: url,
    produced_at: null,
    this_update: null,
    next_update: null,
    revoked_at: null,
    revocation_reason: null,
  };
}

/** DER OCSPRequest for one certificate (SHA-1 CertID, as responders universally accept), with an optional nonce. */
export function buildRequest(input: CertIdInput, nonce: Buffer | null): Buffer {
  const { nameHash, keyHash } = certIdHashes(input, 'sha1');
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1_OID, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: new Uint8Array(nameHash) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: new Uint8Array(keyHash) }),
    serialNumber: new asn1js.Integer({ valueHex: new Uint8Array(input.serial) }),
  });
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId })];
  if (nonce) {
    // RFC 8954: the nonce extension's value is an OCTET STRING holding 1–32 octets.
    request.tbsRequest.requestExtensions = [
      new pkijs.Extension({ extnID: NONCE_OID, extnValue: new asn1js.OctetString({ valueHex: new Uint8Array(nonce) }).toBER() }),
    ];
  }
  return Buffer.from(request.toSchema(true).toBER());
}

export interface ResponseContext {
  certId: CertIdInput;
  /** The certificate's issuer: signs the response itself or delegates to a responder it issued. */
  issuer: ParsedCertificate;
  /** The nonce sent, or null. */
  nonce: Buffer | null;
  /** Wall clock (epoch ms) when the response arrived. */
  now: number;
  /** Event time (epoch ms): a response whose nextUpdate is before it is stale too. */
  at: number;
  /** Clock skew allowed on thisUpdate/nextUpdate (ms). */
  toleranceMs: number;
  /** Oldest thisUpdate accepted from a response that has no nextUpdate (ms). */
  maxAgeMs: number;
  url: string;
}

/** Content octets of an INTEGER without redundant leading zero octets, for comparison. */
function integerKey(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1] & 0x80) === 0) i++;
  // A single 0x00 pad before a high-bit octet is DER's sign octet: drop it too (positive serials).
  if (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

function algorithmOf(buf: Buffer, node: DerNode): SignatureAlgorithm {
  const kids = derChildren(buf, node);
  const oid = decodeOid(buf, kids[0]);
  const p = kids[1];
  return { oid, params: p && p.tag !== 0x05 ? Buffer.from(buf.subarray(p.start, p.end)) : null };
}

interface Signer {
  cert: ParsedCertificate;
  delegated: boolean;
}

/** Judge a responder's answer; never throws. */
export function evaluateResponse(body: Uint8Array, ctx: ResponseContext): OcspResult {
  try {
    return evaluate(Buffer.from(body.buffer, body.byteOffset, body.byteLength), ctx);
  } catch (err) {
    return unknownResult('malformed', `response does not parse: ${(err as Error).message}`, ctx.url);
  }
}

function evaluate(body: Buffer, ctx: ResponseContext): OcspResult {
  const url = ctx.url;
  let response: pkijs.OCSPResponse;
  try {
    response = pkijs.OCSPResponse.fromBER(body);
  } catch (err) {
    return unknownResult('malformed', `not an OCSPResponse: ${(err as Error).message}`, url);
  }
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0) {
    const name = RESPONSE_STATUS[status] ?? String(status);
    return unknownResult(`responder-status-${name}`, `responder answered ${name} (${status})`, url);
  }
  if (!response.responseBytes || response.responseBytes.responseType !== BASIC_OID) {
    return unknownResult(
      'malformed',
      `response type ${response.responseBytes?.responseType ?? 'missing'} is not id-pkix-ocsp-basic`,
      url,
    );
  }
  const basicDer = Buffer.from(response.responseBytes.response.valueBlock.valueHexView);
  let basic: pkijs.BasicOCSPResponse;
  try {
    basic = pkijs.BasicOCSPResponse.fromBER(basicDer);
  } catch (err) {
    return unknownResult('malformed', `not a BasicOCSPResponse: ${(err as Error).message}`, url);
  }

  // The signed bytes, algorithm and signature exactly as received (pkijs would re-encode).
  const top = readDer(basicDer, 0);
  const [tbsNode, algNode, sigNode, certsNode] = derChildren(basicDer, top);
  if (!tbsNode || !algNode || sigNode?.tag !== 0x03) return unknownResult('malformed', 'BasicOCSPResponse is incomplete', url);
  const tbs = basicDer.subarray(tbsNode.start, tbsNode.end);
  const algorithm = algorithmOf(basicDer, algNode);
  const signature = basicDer.subarray(sigNode.contentStart + 1, sigNode.end);
  const data = basic.tbsResponseData;
  const producedAt = data.producedAt.getTime();

  const signers: Signer[] = [{ cert: ctx.issuer, delegated: false }];
  if (certsNode?.tag === 0xa0) {
    const seq = readDer(basicDer, certsNode.contentStart, certsNode.end);
    for (const c of derChildren(basicDer, seq)) {
      try {
        signers.push({ cert: parseCertificate(basicDer.subarray(c.start, c.end)), delegated: true });
      } catch (err) {
        if (!(err instanceof CertificateParseError)) throw err;
      }
    }
  }
  const verdict = checkSignature(tbs, algorithm, signature, signers, ctx, producedAt);
  if (verdict !== null) return unknownResult('bad-signature', verdict, url);

  // The SingleResponse for our CertID (under whichever hash the responder used).
  const wantSerial = integerKey(ctx.certId.serial);
  let single: pkijs.SingleResponse | null = null;
  for (const r of data.responses) {
    const hash = CERTID_HASHES[r.certID.hashAlgorithm.algorithmId];
    if (!hash) continue;
    const { nameHash, keyHash } = certIdHashes(ctx.certId, hash);
    if (
      nameHash.equals(r.certID.issuerNameHash.valueBlock.valueHexView) &&
      keyHash.equals(r.certID.issuerKeyHash.valueBlock.valueHexView) &&
      integerKey(r.certID.serialNumber.valueBlock.valueHexView) === wantSerial
    ) {
      single = r;
      break;
    }
  }
  if (!single) return unknownResult('cert-id-mismatch', 'the signed response holds no answer for this certificate', url);

  if (ctx.nonce) {
    const ext = data.responseExtensions?.find((e) => e.extnID === NONCE_OID);
    // A responder that ignores nonces (pre-signed responses) is normal; a different nonce is a replay.
    if (ext) {
      const sent = new asn1js.OctetString({ valueHex: new Uint8Array(ctx.nonce) }).toBER();
      if (!Buffer.from(ext.extnValue.valueBlock.valueHexView).equals(Buffer.from(sent))) {
        return unknownResult(
          'nonce-mismatch',
          'the response carries a different nonce than the request (replayed response?)',
          url,
        );
      }
    }
  }

  const thisUpdate = single.thisUpdate.getTime();
  const nextUpdate = single.nextUpdate ? single.nextUpdate.getTime() : null;
  const base = {
    responder_url: url,
    produced_at: new Date(producedAt).toISOString(),
    this_update: new Date(thisUpdate).toISOString(),
    next_update: nextUpdate === null ? null : new Date(nextUpdate).toISOString(),
  };
  const stale = (detail: string): OcspResult => ({ ...unknownResult('stale', detail, url), ...base });
  if (thisUpdate > ctx.now + ctx.toleranceMs) return stale(`thisUpdate ${base.this_update} is in the future`);
  if (nextUpdate !== null && nextUpdate < Math.max(ctx.now, ctx.at) - ctx.toleranceMs) {
    return stale(`nextUpdate ${base.next_update} has passed`);
  }
  if (nextUpdate === null && thisUpdate < ctx.now - ctx.maxAgeMs)
    return stale(`thisUpdate ${base.this_update} is too old and there is no nextUpdate`);

  const certStatus = single.certStatus as asn1js.BaseBlock;
  const tag = certStatus.idBlock.tagNumber;
  if (certStatus.idBlock.tagClass !== 3 || tag > 2) return unknownResult('malformed', 'unknown certStatus choice', url);
  if (tag === 0)
    return { status: 'good', unknown_reason: null, detail: null, revoked_at: null, revocation_reason: null, ...base };
  if (tag === 2) return { ...unknownResult('cert-unknown', 'the responder does not know this certificate', url), ...base };
  // revoked [1] IMPLICIT RevokedInfo { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  const raw = Buffer.from(certStatus.valueBeforeDecodeView);
  const info = readDer(raw, 0);
  const [timeNode, reasonNode] = derChildren(raw, info);
  const revokedAt = readDerTime(raw, timeNode);
  let reason: string | null = null;
  if (reasonNode?.tag === 0xa0) {
    const e = readDer(raw, reasonNode.contentStart, reasonNode.end);
    const code = e.tag === 0x0a && e.end - e.contentStart === 1 ? raw[e.contentStart] : -1;
    reason = REASONS[code] ?? null;
  }
  return { status: 'revoked', unknown_reason: null, detail: null, revoked_at: revokedAt, revocation_reason: reason, ...base };
}

/** null when an authorised signer's signature verifies; otherwise why not. */
function checkSignature(
  tbs: Buffer,
  algorithm: SignatureAlgorithm,
  signature: Buffer,
  signers: Signer[],
  ctx: ResponseContext,
  producedAt: number,
): string | null {
  // ResponderID: byName [1] Name, or byKey [2] OCTET STRING (SHA-1 of the signer's key bits).
  const fields = derChildren(tbs, readDer(tbs, 0));
  const rid = fields[0]?.tag === 0xa0 ? fields[1] : fields[0];
  let named: string | null = null;
  let keyId: Buffer | null = null;
  if (rid?.tag === 0xa1) named = decodeName(tbs, readDer(tbs, rid.contentStart, rid.end));
  else if (rid?.tag === 0xa2) {
    const o = readDer(tbs, rid.contentStart, rid.end);
    keyId = tbs.subarray(o.contentStart, o.end);
  } else return 'the response has no ResponderID';
  const matches = (c: ParsedCertificate) =>
    named !== null
      ? c.subjectDn === named
      : createHash('sha1')
          .update(publicKeyBits(c.spki))
          .digest()
          .equals(keyId as Buffer);

  let why: string | null = null;
  for (const { cert, delegated } of signers) {
    if (!matches(cert)) continue;
    const ok = verifySignedData(tbs, algorithm, signature, cert.spki);
    if (ok === null) {
      why ??= `signature algorithm ${algorithm.oid} or the key of "${cert.subjectDn}" is not supported`;
      continue;
    }
    if (!ok) {
      why ??= `signature does not verify with the key of "${cert.subjectDn}"`;
      continue;
    }
    const isIssuer = cert.spki.equals(ctx.issuer.spki) && cert.subjectDn === ctx.issuer.subjectDn;
    if (!delegated || isIssuer) return null;
    // RFC 6960 §4.2.2.2: a delegated responder is issued directly by the CA and carries id-kp-OCSPSigning.
    if (isIssuedBy(cert, ctx.issuer) !== true) {
      why = `signed by "${cert.subjectDn}", which the issuer "${ctx.issuer.subjectDn}" did not issue`;
      continue;
    }
    if (!cert.info.eku.includes('OCSPSigning')) {
      why = `delegated responder "${cert.subjectDn}" lacks the id-kp-OCSPSigning extended key usage`;
      continue;
    }
    const nb = Date.parse(cert.info.not_before ?? '');
    const na = Date.parse(cert.info.not_after ?? '');
    if (!(producedAt >= nb - ctx.toleranceMs && producedAt <= na + ctx.toleranceMs)) {
      why = `delegated responder "${cert.subjectDn}" was not valid when the response was produced`;
      continue;
    }
    return null;
  }
  if (why) return why;
  return named !== null
    ? `signed by "${named}", which is neither the issuer nor a responder certificate included in the response`
    : "signed by a key that is neither the issuer's nor that of a responder certificate included in the response";
}
