// QUIC Initial packets (client → server): removes header protection and decrypts the payload with
// the version's public initial secrets (RFC 9001 §5.2, §5.4 for v1; RFC 9369 §3.3 for v2), parses
// the frames and reassembles CRYPTO data by offset, so a QUIC ClientHello can be fingerprinted.

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');
/** Bound on reassembled CRYPTO bytes (a ClientHello is a few KiB even with post-quantum shares). */
const MAX_CRYPTO_BYTES = 64 * 1024;

/** Packet protection keys of one direction. */
export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most 32 bytes. */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(4 + full.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0;
  // One HKDF-Expand block: T(1) = HMAC(PRK, info || 0x01).
  return createHmac('sha256', secret).update(info).update(Buffer.of(1)).digest().subarray(0, length);
}

/** The client's Initial keys for a destination connection id, or null for an unknown version. */
export function clientInitialKeys(version: number, dcid: Uint8Array): InitialKeys | null {
  const v2 = version === QUIC_V2;
  if (!v2 && version !== QUIC_V1) return null;
  const initialSecret = createHmac('sha256', v2 ? SALT_V2 : SALT_V1)
    .update(dcid)
    .digest();
  const clientSecret = hkdfExpandLabel(initialSecret, 'client in', 32);
  const prefix = v2 ? 'quicv2 ' : 'quic ';
  return {
    key: hkdfExpandLabel(clientSecret, `${prefix}key`, 16),
    iv: hkdfExpandLabel(clientSecret, `${prefix}iv`, 12),
    hp: hkdfExpandLabel(clientSecret, `${prefix}hp`, 16),
  };
}

/** AES-128-ECB of one 16-byte sample: the header protection mask (RFC 9001 §5.4.3). */
export function headerProtectionMask(hp: Uint8Array, sample: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-ecb', hp, null);
  cipher.setAutoPadding(false);
  return cipher.update(sample);
}

/** Reads a QUIC variable-length integer at `at`; returns [value, next offset] or null past `end`. */
export function readVarint(buf: Uint8Array, at: number, end: number): [number, number] | null {
  if (at >= end) return null;
  const len = 1 << (buf[at] >> 6);
  if (at + len > end) return null;
  let v = buf[at] & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + buf[at + i];
  return [v, at + len];
}

/** One decrypted client Initial packet. */
export interface DecryptedInitial {
  version: number;
  dcid: Uint8Array;
  packetNumber: number;
  /** Plaintext frames. */
  payload: Uint8Array;
}

/** Whether a UDP payload starts with a QUIC long-header Initial packet of a version we can decrypt. */
export function isQuicInitial(datagram: Uint8Array): boolean {
  if (datagram.length < 7 || (datagram[0] & 0xc0) !== 0xc0) return false;
  const version = ((datagram[1] << 24) | (datagram[2] << 16) | (datagram[3] << 8) | datagram[4]) >>> 0;
  const type = (datagram[0] >> 4) & 3;
  return (version === QUIC_V1 && type === 0) || (version === QUIC_V2 && type === 1);
}

/**
 * Decrypts every client Initial packet coalesced in one UDP datagram. `keysFor` picks the keys
 * (the assembler keeps the first DCID's keys); packets that fail authentication are left out.
 */
export function decryptInitials(
  datagram: Uint8Array,
  keysFor: (version: number, dcid: Uint8Array) => InitialKeys[],
): DecryptedInitial[] {
  const out: DecryptedInitial[] = [];
  let at = 0;
  const end = datagram.length;
  while (at + 7 <= end && (datagram[at] & 0x80) !== 0) {
    const version = ((datagram[at + 1] << 24) | (datagram[at + 2] << 16) | (datagram[at + 3] << 8) | datagram[at + 4]) >>> 0;
    if (version !== QUIC_V1 && version !== QUIC_V2) break;
    const type = (datagram[at] >> 4) & 3;
    const isInitial = version === QUIC_V1 ? type === 0 : type === 1;
    let p = at + 5;
    const dcidLen = datagram[p++];
    if (dcidLen > 20 || p + dcidLen + 1 > end) break;
    const dcid = datagram.subarray(p, p + dcidLen);
    p += dcidLen;
    const scidLen = datagram[p++];
    p += scidLen;
    if (p > end) break;
    if (isInitial) {
      const token = readVarint(datagram, p, end);
      if (token === null) break;
      p = token[1] + token[0];
    }
    const length = readVarint(datagram, p, end);
    if (length === null) break;
    const pnOffset = length[1];
    const packetEnd = pnOffset + length[0];
    if (packetEnd > end) break;
    if (isInitial && pnOffset + 4 + 16 <= packetEnd) {
      for (const keys of keysFor(version, dcid)) {
        const plain = unprotect(datagram, at, pnOffset, packetEnd, keys);
        if (plain !== null) {
          out.push({ version, dcid, packetNumber: plain.packetNumber, payload: plain.payload });
          break;
        }
      }
    }
    at = packetEnd;
  }
  return out;
}

function unprotect(
  datagram: Uint8Array,
  start: number,
  pnOffset: number,
  packetEnd: number,
  keys: InitialKeys,
): { packetNumber: number; payload: Uint8Array } | null {
  const mask = headerProtectionMask(keys.hp, datagram.subarray(pnOffset + 4, pnOffset + 20));
  const first = datagram[start] ^ (mask[0] & 0x0f);
  const pnLength = (first & 3) + 1;
  const header = Buffer.from(datagram.subarray(start, pnOffset + pnLength));
  header[0] = first;
  let packetNumber = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = header[pnOffset - start + i] ^ mask[1 + i];
    header[pnOffset - start + i] = b;
    packetNumber = packetNumber * 256 + b;
  }
  const nonce = Buffer.from(keys.iv);
  // The packet number (≤ 32 bits here) is XORed into the low-order bytes of the IV.
  for (let i = 0; i < 4; i++) nonce[11 - i] ^= Math.floor(packetNumber / 2 ** (8 * i)) & 0xff;
  const bodyStart = pnOffset + pnLength;
  if (packetEnd - bodyStart < 16) return null;
  try {
    const decipher = createDecipheriv('aes-128-gcm', keys.key, nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(datagram.subarray(packetEnd - 16, packetEnd));
    const a = decipher.update(datagram.subarray(bodyStart, packetEnd - 16));
    const b = decipher.final();
    return { packetNumber, payload: b.length === 0 ? a : Buffer.concat([a, b]) };
  } catch {
    return null;
  }
}

/** One CRYPTO frame: `data` belongs at `offset` of the handshake byte stream. */
export interface CryptoFrame {
  offset: number;
  data: Uint8Array;
}

/** Parses Initial-packet frames (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE); returns the CRYPTO frames, or null if malformed. */
export function parseInitialFrames(payload: Uint8Array): CryptoFrame[] | null {
  const crypto: CryptoFrame[] = [];
  const end = payload.length;
  let at = 0;
  while (at < end) {
    const type = readVarint(payload, at, end);
    if (type === null) return null;
    at = type[1];
    switch (type[0]) {
      case 0x00: // PADDING
      case 0x01: // PING
        continue;
      case 0x02:
      case 0x03: {
        // ACK: largest, delay, range count, first range, ranges…, ECN counts for 0x03.
        let fields = 4;
        const values: number[] = [];
        for (let i = 0; i < fields; i++) {
          const v = readVarint(payload, at, end);
          if (v === null) return null;
          values.push(v[0]);
          at = v[1];
          if (i === 2) fields += v[0] * 2;
        }
        if (type[0] === 0x03) {
          for (let i = 0; i < 3; i++) {
            const v = readVarint(payload, at, end);
            if (v === null) return null;
            at = v[1];
          }
        }
        continue;
      }
      case 0x06: {
        const offset = readVarint(payload, at, end);
        if (offset === null) return null;
        const length = readVarint(payload, offset[1], end);
        if (length === null || length[1] + length[0] > end) return null;
        crypto.push({ offset: offset[0], data: payload.subarray(length[1], length[1] + length[0]) });
        at = length[1] + length[0];
        continue;
      }
      case 0x1c:
      case 0x1d: {
        const code = readVarint(payload, at, end);
        if (code === null) return null;
        at = code[1];
        if (type[0] === 0x1c) {
          const frameType = readVarint(payload, at, end);
          if (frameType === null) return null;
          at = frameType[1];
        }
        const reason = readVarint(payload, at, end);
        if (reason === null) return null;
        at = reason[1] + reason[0];
        continue;
      }
      default:
        return null; // not allowed in an Initial packet
    }
  }
  return crypto;
}

/**
 * Accumulates the client Initial packets of one QUIC connection (several datagrams, several
 * coalesced packets, CRYPTO frames in any order) and gives back the TLS handshake bytes.
 */
export class QuicInitialAssembler {
  /** Version of the first decrypted Initial, or 0. */
  version = 0;
  /** Initial packets decrypted so far. */
  packets = 0;
  private keys: InitialKeys | null = null;
  private readonly fragments = new Map<number, Uint8Array>();
  private bytes = 0;

  /** Feeds one client→server UDP payload; anything that is not a decryptable client Initial is ignored. */
  push(datagram: Uint8Array): void {
    if (!isQuicInitial(datagram)) return;
    const decrypted = decryptInitials(datagram, (version, dcid) => {
      const candidates: InitialKeys[] = [];
      if (this.keys !== null && version === this.version) candidates.push(this.keys);
      // After a Retry the client derives new keys from the new DCID.
      const own = clientInitialKeys(version, dcid);
      if (own !== null) candidates.push(own);
      return candidates;
    });
    for (const packet of decrypted) {
      if (this.keys === null) {
        this.version = packet.version;
        this.keys = clientInitialKeys(packet.version, packet.dcid);
      }
      this.packets++;
      const frames = parseInitialFrames(packet.payload);
      if (frames === null) continue;
      for (const frame of frames) {
        if (frame.data.length === 0 || this.fragments.has(frame.offset)) continue;
        if (this.bytes + frame.data.length > MAX_CRYPTO_BYTES) continue;
        this.fragments.set(frame.offset, Buffer.from(frame.data));
        this.bytes += frame.data.length;
      }
    }
  }

  /** TLS handshake bytes from offset 0 as far as they are contiguous, or null if offset 0 is missing. */
  cryptoData(): Uint8Array | null {
    if (!this.fragments.has(0)) return null;
    const offsets = [...this.fragments.keys()].sort((a, b) => a - b);
    const parts: Uint8Array[] = [];
    let next = 0;
    for (const offset of offsets) {
      if (offset > next) break;
      const data = this.fragments.get(offset) as Uint8Array;
      if (offset + data.length <= next) continue;
      parts.push(data.subarray(next - offset));
      next = offset + data.length;
    }
    return Buffer.concat(parts);
  }

  /** The complete ClientHello handshake message (type 1, with its 4-byte header), or null until all of it is here. */
  clientHello(): Uint8Array | null {
    const data = this.cryptoData();
    if (data === null || data.length < 4 || data[0] !== 1) return null;
    const len = (data[1] << 16) | (data[2] << 8) | data[3];
    return data.length >= 4 + len ? data.subarray(0, 4 + len) : null;
  }
}
