// CSV reading (RFC 4180 quoting, BOM, CRLF, chunk boundaries) and asset/identity loading.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import { CsvParser, type CsvRecord, loadAssets, loadIdentities } from './csv.ts';

const dir = mkdtempSync(join(tmpdir(), 'certsignal-csv-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function parseAll(chunks: string[]): { records: CsvRecord[]; errors: string[] } {
  const records: CsvRecord[] = [];
  const errors: string[] = [];
  const p = new CsvParser(
    (r) => records.push(r),
    (line, msg) => errors.push(`${line}: ${msg}`),
  );
  for (const c of chunks) p.push(c);
  p.end();
  return { records, errors };
}

describe('CsvParser', () => {
  const text = '\uFEFFa,b,c\r\n"x, y","he said ""hi""","multi\nline"\r\n\r\nplain,,last\n';

  it('handles BOM, CRLF, quoted commas, doubled quotes, quoted newlines, empty fields and blank lines', () => {
    const { records, errors } = parseAll([text]);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      records.map((r) => [r.line, r.fields]),
      [
        [1, ['a', 'b', 'c']],
        [2, ['x, y', 'he said "hi"', 'multi\nline']],
        [5, ['plain', '', 'last']],
      ],
    );
  });

  it('gives the same records whichever way the text is split into chunks', () => {
    const whole = parseAll([text]).records;
    for (let cut = 1; cut < text.length; cut++) {
      assert.deepEqual(parseAll([text.slice(0, cut), text.slice(cut)]).records, whole, `cut at ${cut}`);
    }
  });

  it('reports an unterminated quote at the end with the record’s line', () => {
    const { records, errors } = parseAll(['a,b\n1,"open\n']);
    assert.equal(records.length, 1);
    assert.deepEqual(errors, ['2: unterminated quoted field at end of file']);
  });

  it('keeps a last record without a trailing newline', () => {
    assert.deepEqual(
      parseAll(['a\n1']).records.map((r) => r.fields),
      [['a'], ['1']],
    );
  });
});

describe('loadAssets / loadIdentities', () => {
  it('maps default columns, normalises dates and looks up case-insensitively', () => {
    const p = file(
      'assets.csv',
      'device_id,owner,kind,hostname,os,enrolled_at\nLAPTOP-42,alice,laptop,laptop-42.corp,macOS,2025-11-02\n',
    );
    const assets = loadAssets(p);
    assert.equal(assets.size, 1);
    const a = assets.get('laptop-42');
    assert.deepEqual(a, {
      device_id: 'LAPTOP-42',
      owner: 'alice',
      kind: 'laptop',
      hostname: 'laptop-42.corp',
      os: 'macOS',
      enrolled_at: '2025-11-02T00:00:00.000Z',
    });
    assert.equal(assets.get('LAPTOP-42'), a);
  });

  it('uses custom column names, in any header case, and leaves absent optional columns null', () => {
    const p = file('cmdb.csv', 'Asset_Tag,Assigned_To,Extra\nA-1,bob,zzz\n');
    const assets = loadAssets(p, { device_id: 'asset_tag', owner: 'assigned_to' });
    assert.deepEqual(assets.get('a-1'), {
      device_id: 'A-1',
      owner: 'bob',
      kind: null,
      hostname: null,
      os: null,
      enrolled_at: null,
    });
  });

  it('skips bad rows with file:line diagnostics and keeps the good ones', () => {
    const p = file(
      'ids.csv',
      'user,kind,role,department,country,email\nalice,human,admin,IT,DE,alice@x\nbroken,row\n,service,,,,\nsvc-backup,service,,,,\nALICE,human,user,HR,FR,a2@x\n',
    );
    const d = new Diagnostics();
    const ids = loadIdentities(p, {}, { diagnostics: d });
    assert.equal(ids.size, 2);
    assert.equal(ids.get('svc-backup')?.kind, 'service');
    assert.equal(ids.get('Alice')?.department, 'HR'); // later row wins, case-insensitively
    assert.equal(d.counts.get('csv-bad-row'), 2);
    assert.equal(d.counts.get('csv-duplicate-key'), 1);
    assert.deepEqual(
      d.kept.filter((x) => x.reason === 'csv-bad-row').map((x) => [x.file, x.line]),
      [
        [p, 3],
        [p, 4],
      ],
    );
    assert.equal(d.skippedRecords, 2);
  });

  it('throws E_CSV naming the file and the missing required column', () => {
    const p = file('nouser.csv', 'name,role\nalice,admin\n');
    assert.throws(
      () => loadIdentities(p),
      (err: unknown) =>
        err instanceof CertsignalError && err.code === 'E_CSV' && err.message.includes(p) && err.message.includes('"user"'),
    );
    assert.throws(
      () => loadAssets(p, { device_id: 'serial' }),
      (err: unknown) => err instanceof CertsignalError && err.message.includes('"serial"'),
    );
    assert.throws(
      () => loadAssets(join(dir, 'missing.csv')),
      (err: unknown) => err instanceof CertsignalError && err.code === 'E_CSV',
    );
  });
});
