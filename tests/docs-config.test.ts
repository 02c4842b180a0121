// Every certsignal.yaml example in the docs is a valid configuration: a user who copies one gets a
// working file, not a validation error (the loader is the judge, with the shipped rules).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/config.ts';
import { configSchema } from '../src/config/schema.ts';
import { RULES } from '../src/detect/registry.ts';

/** Top-level keys of certsignal.yaml; a yaml block with none of them is another tool's config (Envoy, nginx). */
const CONFIG_KEYS = new Set(Object.keys((configSchema(RULES) as { properties: Record<string, unknown> }).properties));

function isCertsignalConfig(body: string): boolean {
  let data: unknown;
  try {
    data = parse(body);
  } catch {
    return true; // broken YAML: let the loader say why
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return true;
  return Object.keys(data).some((k) => CONFIG_KEYS.has(k));
}

const ROOT = join(import.meta.dirname, '..');
const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

function yamlBlocks(text: string): { line: number; body: string }[] {
  const out: { line: number; body: string }[] = [];
  const re = /^```yaml\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, body: m[1] });
  }
  return out;
}

test('every ```yaml block in README.md and docs/ validates as certsignal.yaml', () => {
  let checked = 0;
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const block of yamlBlocks(text)) {
      if (!isCertsignalConfig(block.body)) continue;
      assert.doesNotThrow(() => parseConfig(block.body, `${file}:${block.line}`, { rules: RULES }), `${file}:${block.line}`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `only ${checked} yaml examples found`);
});

test('the check itself rejects a wrong key (the old docs/enrichment.md spelling)', () => {
  assert.throws(
    () => parseConfig('enrichment:\n  asset_columns: { device_id: asset_tag }\n', 'example', { rules: RULES }),
    /asset_columns/,
  );
});
