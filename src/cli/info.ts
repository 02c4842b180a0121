// `certsignal rules` and `certsignal formats`: what the tool knows, for humans and machines.
import Table from 'cli-table3';
import { RULES } from '../detect/registry.ts';
import { ExitCode } from '../errors.ts';
import { listAllFormats } from '../sources/read.ts';

export function runRules(opts: { output?: string }): number {
  const rows = RULES.map((r) => ({
    id: r.meta.id,
    title: r.meta.title,
    default_weight: r.meta.default_weight,
    variant_weights: r.meta.variant_weights ?? {},
    enabled_by_default: r.meta.default_enabled ?? true,
  }));
  if (opts.output === 'json' || (!opts.output && !process.stdout.isTTY)) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return ExitCode.OK;
  }
  const t = new Table({ head: ['rule', 'title', 'weight', 'variants', 'default'], style: { head: [], border: [] } });
  for (const r of rows) {
    const variants = Object.entries(r.variant_weights)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    t.push([r.id, r.title, String(r.default_weight), variants, r.enabled_by_default ? 'on' : 'opt-in']);
  }
  process.stdout.write(`${t.toString()}\n`);
  return ExitCode.OK;
}

export function runFormats(): number {
  for (const f of listAllFormats()) process.stdout.write(`${f.id.padEnd(16)} ${f.description}\n`);
  return ExitCode.OK;
}
