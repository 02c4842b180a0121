// The explicit list of input formats. A new format is a new folder plus one line here.
import type { LineSource } from './types.ts';
import { ecsSource } from './ecs/source.ts';
import { suricataSource } from './suricata/source.ts';
import { zeekSslSource, zeekX509Source } from './zeek/source.ts';

/** Every source, in tie-break order (earlier wins when two detect scores are equal). */
export const SOURCES: readonly LineSource[] = [zeekX509Source, zeekSslSource, suricataSource, ecsSource];

/** Short names accepted by `--format` besides the ids; `zeek` picks ssl or x509 per file. */
export const FORMAT_ALIASES: Readonly<Record<string, readonly string[]>> = {
  zeek: ['zeek-ssl', 'zeek-x509'],
  suricata: ['suricata-eve'],
  eve: ['suricata-eve'],
};

/** The source with this id, or undefined. */
export function sourceById(id: string): LineSource | undefined {
  return SOURCES.find((s) => s.id === id);
}
