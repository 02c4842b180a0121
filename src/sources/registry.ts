// The explicit list of input formats. A new format is a new folder plus one line here.

import { adcsSource } from './adcs/source.ts';
import { caCsvSource } from './ca/ca-csv.ts';
import { stepCaSource } from './ca/step-ca.ts';
import { vaultAuditSource } from './ca/vault.ts';
import { ecsSource } from './ecs/source.ts';
import { envoySource } from './envoy/source.ts';
import { mdmCsvSource, mdmJsonSource } from './mdm/source.ts';
import { nginxSource } from './nginx/source.ts';
import { pcapSource } from './pcap/source.ts';
import { suricataSource } from './suricata/source.ts';
import type { BinarySource, LineSource } from './types.ts';
import { zeekConnSource } from './zeek/conn.ts';
import { zeekSslSource, zeekX509Source } from './zeek/source.ts';

/** Every source, in tie-break order (earlier wins when two detect scores are equal). */
export const SOURCES: readonly LineSource[] = [
  zeekX509Source,
  zeekConnSource,
  zeekSslSource,
  suricataSource,
  ecsSource,
  // Gateway access logs (JSON log_format keyed by nginx variable names).
  nginxSource,
  // Envoy / Istio json_format access logs (downstream_* keys, XFCC).
  envoySource,
  // CA and MDM telemetry (issuance, revocation, enrollment events).
  stepCaSource,
  vaultAuditSource,
  adcsSource,
  caCsvSource,
  mdmCsvSource,
  mdmJsonSource,
];

/** Binary sources (captures), detected by magic bytes before any line source is tried. */
export const BINARY_SOURCES: readonly BinarySource[] = [pcapSource];

/** Short names accepted by `--format` besides the ids; `zeek` picks ssl, x509 or conn per file. */
export const FORMAT_ALIASES: Readonly<Record<string, readonly string[]>> = {
  zeek: ['zeek-ssl', 'zeek-x509', 'zeek-conn'],
  suricata: ['suricata-eve'],
  eve: ['suricata-eve'],
  pcapng: ['pcap'],
};

/** The source with this id, or undefined. */
export function sourceById(id: string): LineSource | undefined {
  return SOURCES.find((s) => s.id === id);
}

/** The binary source for a `--format` value (id or alias), or undefined. */
export function binarySourceFor(name: string): BinarySource | undefined {
  const ids = FORMAT_ALIASES[name] ?? [name];
  return BINARY_SOURCES.find((s) => ids.includes(s.id));
}
