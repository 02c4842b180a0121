// `certsignal feedback ALERT_ID` (an analyst's verdict on a stored alert) and `certsignal rules
// stats` (per-rule alert counts, verdicts and precision), both over an existing --state file.
import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { RULES } from '../detect/registry.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import { type RuleStats, ruleStats } from '../feedback/stats.ts';
import { parseDuration, recordFeedback } from '../feedback/verdicts.ts';
import { openStateStore } from '../store/sqlite.ts';
import { FEEDBACK_SCOPES, type FeedbackScope, type StateStore } from '../store/types.ts';

export interface FeedbackCliOptions {
  falsePositive?: boolean;
  truePositive?: boolean;
  scope?: string;
  expires?: string;
  reason?: string;
  state?: string;
  output?: string;
}

/** Opens a state store that must already exist: feedback and stats never create an empty one. */
async function openExistingStore(spec: string | undefined): Promise<StateStore> {
  if (!spec) throw new CertsignalError('E_USAGE', '--state FILE is required (the state file `analyze --state` wrote)');
  if (spec !== ':memory:' && !spec.includes('://') && !existsSync(spec)) {
    throw new CertsignalError(
      'E_USAGE',
      `state store ${spec} does not exist; run \`certsignal analyze --state ${spec} …\` first`,
    );
  }
  return openStateStore(spec);
}

/** Runs `certsignal feedback`; returns the exit code. `nowMs` is the wall clock (injected for tests). */
export async function runFeedback(alertId: string, opts: FeedbackCliOptions, nowMs = Date.now()): Promise<number> {
  if (Boolean(opts.falsePositive) === Boolean(opts.truePositive)) {
    throw new CertsignalError('E_USAGE', 'give exactly one of --false-positive or --true-positive');
  }
  const scope = (opts.scope ?? 'alert') as FeedbackScope;
  if (!FEEDBACK_SCOPES.includes(scope)) {
    throw new CertsignalError('E_USAGE', `--scope must be one of ${FEEDBACK_SCOPES.join(', ')}, got "${opts.scope}"`);
  }
  const expiresInMs = opts.expires === undefined ? undefined : parseDuration(opts.expires);
  const verdict = opts.falsePositive ? 'false-positive' : 'true-positive';
  const store = await openExistingStore(opts.state);
  try {
    const record = await recordFeedback(store, { alertId, verdict, scope, expiresInMs, reason: opts.reason, nowMs });
    if (opts.output === 'json') {
      process.stdout.write(`${JSON.stringify(record)}\n`);
    } else {
      const entity = `${record.entity.kind} ${record.entity.id}`;
      const effect =
        verdict === 'true-positive'
          ? 'counted for precision; true positives never suppress'
          : scope === 'alert'
            ? 'this finding is suppressed in later runs'
            : scope === 'rule'
              ? `later \`analyze --state\` runs suppress ${record.rule} for ${entity}`
              : `later \`analyze --state\` runs suppress every rule for ${entity}`;
      const until = record.expires_at ? ` until ${record.expires_at}` : '';
      process.stdout.write(
        `recorded ${verdict} for ${record.alert_id} (${record.rule}, ${entity}), scope ${scope}: ${effect}${verdict === 'false-positive' ? until : ''}\n`,
      );
    }
  } finally {
    await store.close();
  }
  return ExitCode.OK;
}

/** Runs `certsignal rules stats`; NDJSON (one object per rule) for machines, a table on a TTY. */
export async function runRuleStats(opts: { state?: string; output?: string }, nowMs = Date.now()): Promise<number> {
  if (opts.output !== undefined && opts.output !== 'json' && opts.output !== 'table') {
    throw new CertsignalError('E_USAGE', `--output must be json or table, got "${opts.output}"`);
  }
  const store = await openExistingStore(opts.state);
  let rows: RuleStats[];
  try {
    rows = await ruleStats(
      store,
      RULES.map((r) => r.meta.id),
      nowMs,
    );
  } finally {
    await store.close();
  }
  if (opts.output === 'json' || (!opts.output && !process.stdout.isTTY)) {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    return ExitCode.OK;
  }
  const table = new Table({
    head: ['rule', 'alerts', 'true pos.', 'false pos.', 'precision', 'active suppressions'],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    const scopes = FEEDBACK_SCOPES.filter((s) => r.suppressions_by_scope[s] > 0).map((s) => `${r.suppressions_by_scope[s]} ${s}`);
    table.push([
      r.rule,
      String(r.alerts),
      String(r.true_positives),
      String(r.false_positives),
      r.precision === null ? '-' : `${(r.precision * 100).toFixed(0)}%`,
      r.suppressions_active === 0 ? '0' : `${r.suppressions_active} (${scopes.join(', ')})`,
    ]);
  }
  process.stdout.write(`${table.toString()}\n`);
  return ExitCode.OK;
}
