// Tests for the certsignal.yaml loader: defaults, every error with its path and position,
// did-you-mean, rule block validation against a rule's own schema, freezing, mergeConfig.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Type } from 'typebox';
import { CertsignalError } from '../errors.ts';
import { type Config, ConfigError, DEFAULT_WEIGHTS, loadConfig, mergeConfig, parseConfig, type RuleSpec } from './config.ts';

/** A rule as the registry would pass it, with its own config schema and defaults. */
const fakeRule: RuleSpec = {
  meta: { id: 'fake-burst', default_weight: 25, variant_weights: { loud: 35 } },
  configSchema: Type.Object(
    {
      window_minutes: Type.Integer({ minimum: 1 }),
      labels: Type.Array(Type.String()),
      mode: Type.Union([Type.Literal('strict'), Type.Literal('lenient')]),
      limits: Type.Object({ per_user: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  ),
  defaults: { window_minutes: 60, labels: ['default'], mode: 'strict', limits: { per_user: 3 } },
};
const quietRule: RuleSpec = {
  meta: { id: 'quiet-rule' },
  configSchema: Type.Object({}, { additionalProperties: false }),
  defaults: {},
};
const RULES = [fakeRule, quietRule];

const scratch = mkdtempSync(join(tmpdir(), 'certsignal-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function load(yaml: string): Config {
  return parseConfig(yaml, 'certsignal.yaml', { rules: RULES });
}

/** Loads `yaml`, expecting a ConfigError; returns its problem lines. */
function problemsOf(yaml: string): string[] {
  try {
    load(yaml);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.equal(error.code, 'E_CONFIG');
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('defaults', () => {
  test('no path gives every documented default', () => {
    const config = loadConfig(undefined, { rules: RULES });
    assert.deepEqual(config.scoring, {
      weights: { ...DEFAULT_WEIGHTS, 'fake-burst': 25, 'fake-burst.loud': 35 },
      correlation_window_minutes: 1440,
      decay_half_life_minutes: 360,
      thresholds: { medium: 40, high: 80, critical: 120 },
      actions: { low: 'allow', medium: 'step-up', high: 'deny', critical: 'deny' },
    });
    assert.deepEqual(config.rules, {
      'fake-burst': { enabled: true, window_minutes: 60, labels: ['default'], mode: 'strict', limits: { per_user: 3 } },
      'quiet-rule': { enabled: true },
    });
    assert.deepEqual(config.automation_issuers, []);
    assert.deepEqual(config.allowlists, []);
    assert.deepEqual(config.enrichment, {
      assets_columns: {
        device_id: 'device_id',
        owner: 'owner',
        kind: 'kind',
        hostname: 'hostname',
        os: 'os',
        enrolled_at: 'enrolled_at',
      },
      identities_columns: {
        user: 'user',
        kind: 'kind',
        role: 'role',
        department: 'department',
        country: 'country',
        email: 'email',
      },
      user_from_certificate: ['upn', 'email', 'cn'],
      ocsp: {
        enabled: false,
        timeout_ms: 2000,
        cache_size: 10000,
        responder_override: null,
        nonce: true,
        concurrency: 8,
        budget_ms: 120000,
      },
    });
    assert.deepEqual(config.input, { max_line_bytes: 1048576, xfcc_trusted_hops: 1 });
  });

  test('an empty file, a comment-only file and empty sections also give the defaults', () => {
    const defaults = loadConfig(undefined, { rules: RULES });
    assert.deepEqual(load(''), defaults);
    assert.deepEqual(load('# nothing configured yet\n'), defaults);
    assert.deepEqual(load('scoring:\nrules:\n  fake-burst:\nallowlists:\nenrichment:\n  assets_columns:\n'), defaults);
  });

  test("a rule's metadata weight overrides the built-in table for that rule", () => {
    const rule: RuleSpec = {
      ...quietRule,
      meta: { id: 'cert-churn', default_weight: 11, variant_weights: { 'short-lived': 12 } },
    };
    const config = loadConfig(undefined, { rules: [rule] });
    assert.equal(config.scoring.weights['cert-churn'], 11);
    assert.equal(config.scoring.weights['cert-churn.short-lived'], 12);
    assert.equal(config.scoring.weights['key-reuse'], DEFAULT_WEIGHTS['key-reuse']);
  });

  test('without a path, ./certsignal.yaml is NOT loaded implicitly', () => {
    const dir = mkdtempSync(join(scratch, 'cwd-'));
    writeFileSync(join(dir, 'certsignal.yaml'), 'scoring: { correlation_window_minutes: 5 }\n');
    const previous = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(loadConfig(undefined, { rules: RULES }).scoring.correlation_window_minutes, 1440);
      assert.equal(loadConfig('certsignal.yaml', { rules: RULES }).scoring.correlation_window_minutes, 5);
    } finally {
      process.chdir(previous);
    }
  });
});

describe('loading values', () => {
  test('a complete file overrides defaults, merging rule blocks over rule defaults', () => {
    const path = join(scratch, 'full.yaml');
    writeFileSync(
      path,
      `scoring:
  weights: { fake-burst: 5, fake-burst.loud: 0, key-reuse: 61.5 }
  correlation_window_minutes: 720
  decay_half_life_minutes: 90
  thresholds: { medium: 10, high: 20 }
  actions: { medium: deny }
rules:
  fake-burst:
    window_minutes: 15
    limits: { per_user: 9 }
  quiet-rule: { enabled: false }
automation_issuers: [ "CN=Vault Automation CA,O=Example" ]
allowlists:
  - rule: fake-burst
    cert_sha256: "AB:${'CD:'.repeat(30)}EF"
    reason: lab device
    expires: 2027-01-01
enrichment:
  assets_columns: { device_id: asset_tag }
  identities_columns: { user: sAMAccountName }
  user_from_certificate: [ cn ]
input:
  max_line_bytes: 4096
`,
    );
    const config = loadConfig(path, { rules: RULES });
    assert.equal(config.scoring.weights['fake-burst'], 5);
    assert.equal(config.scoring.weights['fake-burst.loud'], 0);
    assert.equal(config.scoring.weights['key-reuse'], 61.5);
    assert.equal(config.scoring.weights['expired-cert'], 70);
    assert.equal(config.scoring.correlation_window_minutes, 720);
    assert.equal(config.scoring.decay_half_life_minutes, 90);
    assert.deepEqual(config.scoring.thresholds, { medium: 10, high: 20, critical: 120 });
    assert.deepEqual(config.scoring.actions, { low: 'allow', medium: 'deny', high: 'deny', critical: 'deny' });
    assert.deepEqual(config.rules['fake-burst'], {
      enabled: true,
      window_minutes: 15,
      labels: ['default'],
      mode: 'strict',
      limits: { per_user: 9 },
    });
    assert.equal(config.rules['quiet-rule'].enabled, false);
    assert.deepEqual(config.automation_issuers, ['CN=Vault Automation CA,O=Example']);
    assert.deepEqual(config.allowlists, [
      { rule: 'fake-burst', cert_sha256: `ab${'cd'.repeat(30)}ef`, reason: 'lab device', expires: '2027-01-01' },
    ]);
    assert.equal(config.enrichment.assets_columns.device_id, 'asset_tag');
    assert.equal(config.enrichment.assets_columns.owner, 'owner');
    assert.equal(config.enrichment.identities_columns.user, 'sAMAccountName');
    assert.deepEqual(config.enrichment.user_from_certificate, ['cn']);
    assert.equal(config.input.max_line_bytes, 4096);
  });

  test('YAML anchors and aliases work', () => {
    const config = load('automation_issuers: &issuers ["CN=A,O=X"]\nrules:\n  fake-burst:\n    labels: *issuers\n');
    assert.deepEqual(config.rules['fake-burst'].labels, ['CN=A,O=X']);
  });

  test('the loaded config is deep-frozen, and rule defaults are not frozen or shared', () => {
    const config = load('rules:\n  fake-burst: { labels: [a] }\nallowlists: [ { user: alice } ]\n');
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.scoring.weights));
    assert.ok(Object.isFrozen(config.scoring.thresholds));
    assert.ok(Object.isFrozen(config.rules['fake-burst']));
    assert.ok(Object.isFrozen(config.rules['fake-burst'].labels));
    assert.ok(Object.isFrozen(config.rules['fake-burst'].limits));
    assert.ok(Object.isFrozen(config.allowlists[0]));
    assert.ok(Object.isFrozen(config.enrichment.user_from_certificate));
    assert.throws(() => {
      (config.scoring.weights as Record<string, number>)['fake-burst'] = 1000;
    }, TypeError);
    assert.throws(() => {
      config.allowlists.push({ user: 'mallory' });
    }, TypeError);
    assert.equal(Object.isFrozen(fakeRule.defaults), false);
    assert.equal(Object.isFrozen((fakeRule.defaults as { limits: object }).limits), false);
    const defaults = loadConfig(undefined, { rules: RULES });
    assert.notEqual(defaults.rules['fake-burst'].limits, (fakeRule.defaults as { limits: object }).limits);
  });
});

describe('errors', () => {
  test('every error is reported at once, each with file:line:col and key path, in file order', () => {
    const problems = problemsOf(`scoring:
  correlation_window_minutes: 0
  decay_half_life_minutes: 1.5
rules:
  fake-burst:
    window_minutes: "sixty"
    mode: sometimes
    labels: [ok, 3]
    limits: { per_user: -1 }
input:
  max_line_bytes: lots
`);
    assert.deepEqual(problems, [
      'certsignal.yaml:2:31: scoring.correlation_window_minutes: expected integer ≥ 1, got 0',
      'certsignal.yaml:3:28: scoring.decay_half_life_minutes: expected integer ≥ 1, got 1.5',
      'certsignal.yaml:6:21: rules.fake-burst.window_minutes: expected integer ≥ 1, got "sixty"',
      'certsignal.yaml:7:11: rules.fake-burst.mode: expected one of "strict", "lenient", got "sometimes"',
      'certsignal.yaml:8:18: rules.fake-burst.labels[1]: expected string, got 3 (quote it: "3")',
      'certsignal.yaml:9:25: rules.fake-burst.limits.per_user: expected integer ≥ 0, got -1',
      'certsignal.yaml:11:19: input.max_line_bytes: expected integer between 1 and 1073741824, got "lots"',
    ]);
  });

  test('the error message holds every problem and the error is a CertsignalError E_CONFIG', () => {
    assert.throws(
      () => load('scoring: { correlation_window_minutes: x }\ninput: { max_line_bytes: y }\n'),
      (error: unknown) => {
        assert.ok(error instanceof CertsignalError);
        assert.equal(error.code, 'E_CONFIG');
        assert.match(error.message, /^certsignal\.yaml: 2 configuration errors:/);
        assert.match(error.message, /scoring\.correlation_window_minutes: expected integer ≥ 1, got "x"/);
        assert.match(error.message, /input\.max_line_bytes: expected integer between 1 and 1073741824, got "y"/);
        return true;
      },
    );
  });

  test('more than eight errors are all reported (typebox stops at 8 by default)', () => {
    const lines = Array.from({ length: 12 }, (_, i) => `  - { user: ${i} }`).join('\n');
    const problems = problemsOf(`allowlists:\n${lines}\n`);
    assert.equal(problems.length, 12);
    assert.match(problems[11], /allowlists\[11\]\.user: expected non-empty string, got 11/);
  });

  test('unknown keys are errors, with "did you mean" when close', () => {
    const problems = problemsOf(`scoring:
  corelation_window_minutes: 60
  Decay-Half-Life-Minutes: 30
  thresholds: { meduim: 1 }
rules:
  fake-brust: {}
  fake-burst: { window_minute: 5, colour: red }
enrichment:
  user_from_cert: [cn]
frobnicate: true
`);
    assert.deepEqual(problems, [
      'certsignal.yaml:2:3: scoring.corelation_window_minutes: unknown key "corelation_window_minutes" (did you mean "correlation_window_minutes"?)',
      'certsignal.yaml:3:3: scoring.Decay-Half-Life-Minutes: unknown key "Decay-Half-Life-Minutes" (did you mean "decay_half_life_minutes"?)',
      'certsignal.yaml:4:17: scoring.thresholds.meduim: unknown key "meduim" (did you mean "medium"?)',
      'certsignal.yaml:6:3: rules.fake-brust: unknown rule "fake-brust" (did you mean "fake-burst"?)',
      'certsignal.yaml:7:17: rules.fake-burst.window_minute: unknown key "window_minute" (did you mean "window_minutes"?)',
      'certsignal.yaml:7:35: rules.fake-burst.colour: unknown key "colour" (expected one of: enabled, window_minutes, labels, mode, limits)',
      'certsignal.yaml:9:3: enrichment.user_from_cert: unknown key "user_from_cert" (did you mean "user_from_certificate"?)',
      'certsignal.yaml:10:1: frobnicate: unknown key "frobnicate" (expected one of: scoring, rules, automation_issuers, allowlists, enrichment, input)',
    ]);
  });

  test('weights must name a known rule or a declared variant', () => {
    const problems = problemsOf(
      'scoring:\n  weights:\n    fake-burts: 1\n    fake-burst.lod: 2\n    fake-burst: -3\n    nonsense-rule: 4\n',
    );
    assert.deepEqual(problems, [
      'certsignal.yaml:3:5: scoring.weights.fake-burts: unknown rule "fake-burts" (did you mean "fake-burst"?)',
      'certsignal.yaml:4:5: scoring.weights.fake-burst.lod: rule fake-burst has no variant "lod" (did you mean "fake-burst.loud"?)',
      'certsignal.yaml:5:17: scoring.weights.fake-burst: expected number ≥ 0, got -3',
      'certsignal.yaml:6:5: scoring.weights.nonsense-rule: unknown rule "nonsense-rule"',
    ]);
  });

  test("rule blocks are validated against the rule's own schema, not a generic one", () => {
    // `enabled` is accepted for every rule; the rule's schema rejects what the other rule allows.
    assert.equal(load('rules:\n  quiet-rule: { enabled: false }\n').rules['quiet-rule'].enabled, false);
    assert.deepEqual(problemsOf('rules:\n  quiet-rule: { window_minutes: 5 }\n'), [
      'certsignal.yaml:2:17: rules.quiet-rule.window_minutes: unknown key "window_minutes" (expected one of: enabled)',
    ]);
    assert.deepEqual(problemsOf('rules:\n  fake-burst: { enabled: "no", limits: { per_user: 1, extra: 2 } }\n'), [
      'certsignal.yaml:2:26: rules.fake-burst.enabled: expected true or false, got "no" (write true or false, unquoted)',
      'certsignal.yaml:2:55: rules.fake-burst.limits.extra: unknown key "extra" (expected one of: per_user)',
    ]);
    assert.deepEqual(problemsOf('rules:\n  fake-burst: [1, 2]\n'), [
      'certsignal.yaml:2:15: rules.fake-burst: expected mapping, got a list (2 items)',
    ]);
  });

  test('cross-field and semantic checks: threshold order, DNs, allowlist entries', () => {
    const problems = problemsOf(`scoring:
  thresholds: { medium: 50, high: 40 }
automation_issuers: [ "/C=US/O=Example/CN=Vault CA", "Vault CA" ]
allowlists:
  - { reason: "matches everything" }
  - { rule: fake-brust }
  - { rule: fake-burst.anything, source_cidr: 10.1.0.0/8 }
  - { issuer: "O=Example,CN", expires: 2027-02-30 }
  - { source_cidr: "2001:db8::/129", cert_sha256: "abc", spki_sha256: "not-a-digest" }
`);
    assert.deepEqual(problems, [
      'certsignal.yaml:2:15: scoring.thresholds: must satisfy medium ≤ high ≤ critical, got medium 50, high 40, critical 120',
      'certsignal.yaml:3:23: automation_issuers[0]: looks like the OpenSSL "/"-separated form; write RFC 4514 (most specific first), e.g. "CN=Vault CA,O=Example,C=US"',
      'certsignal.yaml:3:54: automation_issuers[1]: "Vault CA" is not TYPE=value; expected an RFC 4514 DN like "CN=Issuing CA,O=Example"',
      'certsignal.yaml:5:5: allowlists[0]: entry matches nothing specific; give at least one of rule, user, device, cert_sha256, spki_sha256, issuer, subject_pattern, source_cidr',
      'certsignal.yaml:6:13: allowlists[1].rule: unknown rule "fake-brust" (did you mean "fake-burst"?)',
      'certsignal.yaml:7:47: allowlists[2].source_cidr: invalid network "10.1.0.0/8": host bits are set (did you mean 10.0.0.0/8?)',
      'certsignal.yaml:8:15: allowlists[3].issuer: "CN" is not TYPE=value; expected an RFC 4514 DN like "CN=Issuing CA,O=Example"',
      'certsignal.yaml:8:40: allowlists[3].expires: "2027-02-30" is not a real date',
      'certsignal.yaml:9:20: allowlists[4].source_cidr: invalid network "2001:db8::/129": prefix length must be 0..128, got "129"',
      'certsignal.yaml:9:51: allowlists[4].cert_sha256: expected a SHA-256 digest (64 hex digits, colons allowed), got "abc"',
      'certsignal.yaml:9:71: allowlists[4].spki_sha256: expected a SHA-256 digest (64 hex digits, or the 44-character base64 pin-sha256 form), got "not-a-digest"',
    ]);
  });

  test('a value with the wrong type is reported once, not again by the semantic checks', () => {
    assert.deepEqual(problemsOf('scoring:\n  thresholds: { medium: high }\nallowlists:\n  - { source_cidr: 5, rule: 7 }\n'), [
      'certsignal.yaml:2:25: scoring.thresholds.medium: expected number ≥ 0, got "high"',
      'certsignal.yaml:4:20: allowlists[0].source_cidr: expected non-empty string, got 5 (quote it: "5")',
      'certsignal.yaml:4:29: allowlists[0].rule: expected non-empty string, got 7 (quote it: "7")',
    ]);
  });

  test('YAML syntax errors name file:line:col', () => {
    assert.throws(
      () => load('scoring:\n  weights: { a: 1\ninput: {}\n'),
      (error: unknown) => {
        assert.ok(error instanceof CertsignalError);
        assert.equal(error.code, 'E_CONFIG');
        assert.match(error.message, /^certsignal\.yaml:\d+:\d+: YAML syntax error: /);
        return true;
      },
    );
    assert.throws(
      () => load('scoring:\n  decay_half_life_minutes: 1\n  decay_half_life_minutes: 2\n'),
      /certsignal\.yaml:3:3: YAML syntax error: Map keys must be unique/,
    );
    assert.throws(() => load('scoring:\n\tweights: {}\n'), /certsignal\.yaml:2:1: YAML syntax error/);
  });

  test('a top level that is not a mapping is refused', () => {
    assert.throws(() => load('- scoring\n- rules\n'), /certsignal\.yaml: expected a mapping of settings at the top level/);
    assert.throws(() => load('just a string\n'), /expected a mapping/);
  });

  test('an unreadable path is an E_CONFIG error naming the path', () => {
    const missing = join(scratch, 'nope.yaml');
    assert.throws(
      () => loadConfig(missing, { rules: RULES }),
      (error: unknown) => {
        assert.ok(error instanceof CertsignalError);
        assert.equal(error.code, 'E_CONFIG');
        assert.equal(error.message, `${missing}: cannot read config file: no such file`);
        return true;
      },
    );
    assert.throws(() => loadConfig(scratch, { rules: RULES }), /cannot read config file: it is a directory/);
  });
});

describe('mergeConfig', () => {
  test('overrides merge into a new frozen config and leave the original alone', () => {
    const base = load('scoring: { thresholds: { medium: 30 } }\nrules:\n  fake-burst: { window_minutes: 15 }\n');
    const merged = mergeConfig(base, {
      scoring: { thresholds: { high: 90 }, weights: { 'fake-burst': 7 } },
      rules: { 'fake-burst': { mode: 'lenient' } },
      input: { max_line_bytes: 2048 },
      automation_issuers: ['CN=CLI CA'],
    });
    assert.deepEqual(merged.scoring.thresholds, { medium: 30, high: 90, critical: 120 });
    assert.equal(merged.scoring.weights['fake-burst'], 7);
    assert.equal(merged.scoring.weights['fake-burst.loud'], 35);
    assert.equal(merged.rules['fake-burst'].window_minutes, 15);
    assert.equal(merged.rules['fake-burst'].mode, 'lenient');
    assert.equal(merged.input.max_line_bytes, 2048);
    assert.deepEqual(merged.automation_issuers, ['CN=CLI CA']);
    assert.ok(Object.isFrozen(merged.scoring.thresholds));
    assert.equal(base.scoring.thresholds.high, 80);
    assert.equal(base.input.max_line_bytes, 1048576);
    // undefined means "flag not given"
    assert.deepEqual(mergeConfig(base, { input: { max_line_bytes: undefined } }), base);
  });

  test('invalid overrides are reported against the command line', () => {
    const base = loadConfig(undefined, { rules: RULES });
    assert.throws(
      () => mergeConfig(base, { input: { max_line_bytes: 0 }, scoring: { thresholds: { medium: 500 } } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'command line: input.max_line_bytes: expected integer between 1 and 1073741824, got 0',
          'command line: scoring.thresholds: must satisfy medium ≤ high ≤ critical, got medium 500, high 80, critical 120',
        ]);
        return true;
      },
    );
  });
});
