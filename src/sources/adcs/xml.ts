// The few parts of a Windows event's XML (`<Event xmlns=…>` as wevtutil, Get-WinEvent ToXml(),
// WEF and Splunk's XmlWinEventLog write it) that the AD CS source reads: System header fields and
// the named EventData values. A deliberately small reader for one known, flat schema — not a
// general XML parser.

/** One Windows event, as far as certsignal reads it. */
export interface WinEvent {
  eventId: number | null;
  provider: string | null;
  /** `TimeCreated/@SystemTime` as written (ISO 8601, up to 100 ns precision). */
  systemTime: string | null;
  recordId: string | null;
  computer: string | null;
  channel: string | null;
  /** EventData values by `Name` (entities decoded). */
  data: Map<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five XML entities and numeric character references. */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? whole;
  });
}

function element(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  return m ? decodeXmlText(m[1]).trim() : null;
}

function attribute(xml: string, elementName: string, attr: string): string | null {
  const m = new RegExp(`<${elementName}\\s[^>]*?${attr}\\s*=\\s*(['"])(.*?)\\1`).exec(xml);
  return m ? decodeXmlText(m[2]) : null;
}

const DATA_RE = /<Data\s+Name\s*=\s*(['"])(.*?)\1\s*(?:\/>|>([\s\S]*?)<\/Data>)/g;

/** Parses one `<Event>…</Event>` string. Returns null when it has no `<System>` part. */
export function parseWinEvent(xml: string): WinEvent | null {
  const sysStart = xml.indexOf('<System>');
  const sysEnd = xml.indexOf('</System>');
  if (sysStart < 0 || sysEnd < sysStart) return null;
  const system = xml.slice(sysStart, sysEnd);
  const idText = element(system, 'EventID');
  const data = new Map<string, string>();
  const dataStart = xml.indexOf('<EventData');
  if (dataStart >= 0) {
    DATA_RE.lastIndex = dataStart;
    for (let m = DATA_RE.exec(xml); m !== null; m = DATA_RE.exec(xml)) {
      data.set(m[2], decodeXmlText(m[3] ?? ''));
    }
  }
  return {
    eventId: idText !== null && /^\d+$/.test(idText) ? Number(idText) : null,
    provider: attribute(system, 'Provider', 'Name'),
    systemTime: attribute(system, 'TimeCreated', 'SystemTime'),
    recordId: element(system, 'EventRecordID'),
    computer: element(system, 'Computer'),
    channel: element(system, 'Channel'),
    data,
  };
}

/** Index of the next `<Event` start tag (not `<EventData`/`<EventID`) at or after `from`, or -1. */
export function nextEventStart(text: string, from = 0): number {
  for (let i = text.indexOf('<Event', from); i >= 0; i = text.indexOf('<Event', i + 6)) {
    const c = text.charCodeAt(i + 6);
    // whitespace or `>` after the name: <Event xmlns=…> / <Event>
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 62) return i;
  }
  return -1;
}
