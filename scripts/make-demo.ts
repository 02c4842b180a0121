// Regenerates the bundled demo data set in examples/demo/ (see examples/demo/SCENARIOS.md).
// Usage: node_modules/.bin/node scripts/make-demo.ts [--seed TEXT] [--out DIR] [--no-pem]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_DEFAULT_SEED, planDemo, renderDemo } from '../src/fleet/demo.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: DEMO_DEFAULT_SEED },
    out: { type: 'string', default: new URL('../examples/demo/', import.meta.url).pathname },
    'no-pem': { type: 'boolean', default: false },
  },
});

const plan = planDemo(values.seed);
const rendered = await renderDemo(plan, { includePem: !values['no-pem'] });
mkdirSync(values.out, { recursive: true });
let total = 0;
for (const [name, contents] of Object.entries(rendered.files)) {
  writeFileSync(join(values.out, name), contents);
  total += Buffer.byteLength(contents);
  console.log(`${name.padEnd(18)} ${Buffer.byteLength(contents).toLocaleString('en').padStart(10)} bytes`);
}
console.log(
  `${plan.events.length} events, ${plan.estate.users.length} accounts, ${plan.estate.devices.length} devices, ${plan.scenarios.length} scenarios, ${total.toLocaleString('en')} bytes in ${values.out}`,
);
