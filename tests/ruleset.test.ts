// The whole-ruleset linter: every registered rule has a unique kebab-case id matching its folder,
// complete metadata, a config schema its defaults satisfy, a README documenting every config key
// and variant, a test file, and a row in docs/rules.md. A rule that breaks a convention fails here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { getRule, RULES } from '../src/detect/registry.ts';

const DETECT_DIR = new URL('../src/detect/', import.meta.url);
const RULES_DOC = fileURLToPath(new URL('../docs/rules.md', import.meta.url));
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** The documented order (docs/rules.md, src/detect/registry.ts). */
const DOCUMENTED_ORDER = [
  'cert-churn',
  'key-reuse',
  'subject-mismatch',
  'untrusted-issuer',
  'expired-cert',
  'revoked-cert',
  'tls-fingerprint-change',
  'new-device',
  'impossible-travel',
  'odd-hour',
  'new-resource',
  'issuance-without-enrollment',
  'requester-subject-mismatch',
  'volume-spike',
  'behaviour-anomaly',
];

function ruleFile(id: string, name: string): string {
  return fileURLToPath(new URL(`${id}/${name}`, DETECT_DIR));
}

interface ObjectSchema {
  type?: string;
  properties?: Record<string, { default?: unknown }>;
  additionalProperties?: unknown;
}

describe('ruleset', () => {
  it('registers every rule in the documented order, each once', () => {
    assert.deepEqual(
      RULES.map((r) => r.meta.id),
      DOCUMENTED_ORDER,
    );
    assert.equal(new Set(RULES.map((r) => r.meta.id)).size, RULES.length);
    assert.ok(Object.isFrozen(RULES));
  });

  it('registers every rule folder under src/detect (no rule left out of the registry)', () => {
    const folders = readdirSync(DETECT_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(ruleFile(d.name, 'rule.ts')))
      .map((d) => d.name)
      .sort();
    assert.deepEqual(folders, [...DOCUMENTED_ORDER].sort());
  });

  it('getRule finds each rule by id and returns undefined for an unknown id', () => {
    for (const r of RULES) assert.equal(getRule(r.meta.id), r);
    assert.equal(getRule('no-such-rule'), undefined);
    assert.equal(getRule(''), undefined);
  });

  for (const rule of RULES) {
    const id = rule.meta.id;
    describe(id, () => {
      it('has a kebab-case id equal to its folder name, whose rule.ts exports this rule', async () => {
        assert.match(id, KEBAB);
        const mod = (await import(new URL(`${id}/rule.ts`, DETECT_DIR).href)) as { rule?: unknown };
        assert.equal(mod.rule, rule, `src/detect/${id}/rule.ts must export the registered rule`);
      });

      it('has complete metadata', () => {
        const m = rule.meta;
        assert.ok(m.title.trim().length > 0, 'title');
        assert.ok(m.description.trim().length > 0, 'description');
        assert.ok(Number.isFinite(m.default_weight) && m.default_weight >= 0, 'default_weight >= 0');
        assert.ok(Array.isArray(m.references) && m.references.length > 0, 'references non-empty');
        for (const r of m.references) assert.ok(r.trim().length > 0, 'reference text');
        assert.ok(Array.isArray(m.false_positives) && m.false_positives.length > 0, 'false_positives non-empty');
        for (const fp of m.false_positives) assert.ok(fp.trim().length > 0, 'false positive text');
        for (const [variant, weight] of Object.entries(m.variant_weights ?? {})) {
          assert.match(variant, KEBAB, `variant ${variant} is kebab-case`);
          assert.ok(Number.isFinite(weight) && weight >= 0, `variant weight ${variant} >= 0`);
        }
      });

      it('has a closed object config schema with snake_case keys that its defaults satisfy', () => {
        const schema = rule.configSchema as ObjectSchema;
        assert.equal(schema.type, 'object');
        assert.equal(schema.additionalProperties, false, 'configSchema must set additionalProperties: false');
        for (const key of Object.keys(schema.properties ?? {})) assert.match(key, SNAKE, `config key ${key}`);
        const errors = [...Value.Errors(rule.configSchema, rule.defaults)].map((e) => `${e.instancePath || '/'} ${e.message}`);
        assert.deepEqual(errors, [], 'defaults must validate against configSchema');
        assert.equal(Value.Check(rule.configSchema, rule.defaults), true);
        // A `default` annotation in the schema (what docs and config tooling show) must equal rule.defaults.
        for (const [key, prop] of Object.entries(schema.properties ?? {})) {
          if ('default' in prop)
            assert.deepEqual(prop.default, (rule.defaults as Record<string, unknown>)[key], `schema default of ${key}`);
        }
      });

      it('has a README documenting every config key and variant, and a rule.test.ts', () => {
        const readmePath = ruleFile(id, 'README.md');
        assert.ok(existsSync(readmePath), `src/detect/${id}/README.md exists`);
        assert.ok(existsSync(ruleFile(id, 'rule.test.ts')), `src/detect/${id}/rule.test.ts exists`);
        const readme = readFileSync(readmePath, 'utf8');
        assert.ok(readme.includes(id), 'README names the rule id');
        const schema = rule.configSchema as ObjectSchema;
        for (const key of Object.keys(schema.properties ?? {})) {
          assert.ok(readme.includes(`\`${key}\``), `README mentions config key \`${key}\``);
        }
        for (const variant of Object.keys(rule.meta.variant_weights ?? {})) {
          assert.ok(readme.includes(`\`${variant}\``), `README mentions variant \`${variant}\``);
        }
      });

      it('has a row in docs/rules.md with its title, default weight and README link', () => {
        const row = readFileSync(RULES_DOC, 'utf8')
          .split('\n')
          .find((line) => line.startsWith(`| \`${id}\``));
        assert.ok(row, `docs/rules.md has a row starting with | \`${id}\``);
        const cells = row.split('|').map((c) => c.trim());
        // cells: ['', id, title, weight, variants, link, '']
        assert.equal(cells[2], rule.meta.title, 'title matches meta.title');
        assert.equal(cells[3], String(rule.meta.default_weight), 'weight matches meta.default_weight');
        for (const variant of Object.keys(rule.meta.variant_weights ?? {})) {
          assert.ok(cells[4].includes(`\`${variant}\``), `variants column lists ${variant}`);
        }
        assert.ok(cells[5].includes(`(../src/detect/${id}/README.md)`), 'links the rule README');
      });
    });
  }
});

it('docs/config.md lists every rule config key with its default', () => {
  const rules = RULES;
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  for (const r of rules) {
    const section = doc.slice(doc.indexOf(`#### \`${r.meta.id}\``));
    for (const [k, v] of Object.entries(r.defaults as Record<string, unknown>)) {
      assert.ok(
        section.includes(`| \`${k}\` | \`${JSON.stringify(v)}\``),
        `${r.meta.id}.${k} missing or default out of date in docs/config.md`,
      );
    }
  }
});

it('opt-in rules (meta.default_enabled false) are off unless certsignal.yaml enables them', async () => {
  const { loadConfig, parseConfig } = await import('../src/config/config.ts');
  const { createEngine } = await import('../src/pipeline/setup.ts');
  const facts = { trustAnchorsConfigured: false, crlsConfigured: false, assetsConfigured: false, identitiesConfigured: false };
  const optIn = RULES.filter((r) => r.meta.default_enabled === false).map((r) => r.meta.id);
  assert.deepEqual(optIn, ['odd-hour']);
  const byDefault = createEngine(loadConfig(undefined, { rules: RULES }), facts);
  assert.ok(!byDefault.enabledRules.includes('odd-hour'));
  assert.ok(byDefault.enabledRules.includes('new-resource'));
  const enabled = createEngine(parseConfig('rules:\n  odd-hour:\n    enabled: true\n', 'test.yaml', { rules: RULES }), facts);
  assert.ok(enabled.enabledRules.includes('odd-hour'));
});
