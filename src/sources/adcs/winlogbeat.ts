// The same Windows Security events as the XML path, as Winlogbeat / Elastic Agent write them:
// ECS NDJSON, one event per line, `winlog.*` holding the event's own header and `event_data` its
// named values (the XML `<Data Name=…>`), nested objects or dotted keys. This file only turns such
// a record into the flat WinEvent the XML reader produces, so both shapes share one mapping
// (source.ts) to Observations.
import { asJsonObject } from '../common.ts';
import { expandDottedKeys } from '../ecs/source.ts';
import type { WinEvent } from './xml.ts';

type Obj = Record<string, unknown>;

/** A Winlogbeat record read as a WinEvent; `hasEventData` = `winlog.event_data` was an object. */
export interface WinlogRecord {
  event: WinEvent;
  hasEventData: boolean;
}

/** A scalar as text: strings as logged, numbers and booleans via String(); anything else null. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** `4887` or `"4887"` → 4887; anything else null. */
function eventId(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && /^\s*\d{1,10}\s*$/.test(v)) return Number(v);
  return null;
}

/**
 * Reads one parsed Winlogbeat/Elastic Agent record (dotted keys are expanded in place). Fields
 * read: `winlog.event_id` (else `event.code`), `winlog.provider_name` (else `event.provider`),
 * `@timestamp` (Winlogbeat's copy of TimeCreated), `winlog.record_id`, `winlog.computer_name`
 * (else `host.name`), `winlog.channel`, and every scalar of `winlog.event_data`.
 */
export function winEventFromJson(o: Obj): WinlogRecord {
  expandDottedKeys(o, true);
  const winlog = asJsonObject(o.winlog) ?? {};
  const event = asJsonObject(o.event) ?? {};
  const host = asJsonObject(o.host) ?? {};
  const eventData = asJsonObject(winlog.event_data);
  const data = new Map<string, string>();
  if (eventData) {
    for (const [k, v] of Object.entries(eventData)) {
      const t = text(v);
      if (t !== null) data.set(k, t);
    }
  }
  return {
    event: {
      eventId: eventId(winlog.event_id) ?? eventId(event.code),
      provider: text(winlog.provider_name) ?? text(event.provider),
      systemTime: text(o['@timestamp']),
      recordId: text(winlog.record_id),
      computer: text(winlog.computer_name) ?? text(host.name),
      channel: text(winlog.channel),
      data,
    },
    hasEventData: eventData !== null,
  };
}
