// graphql-schema-linter over schema.graphql with the rules the project adopts (docs/naming.md).
// Usage: node schema-lint.mjs SCHEMA_FILE. Prints the linter's JSON report ({ errors: [...] }).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const RULES = [
  'arguments-have-descriptions',
  'defined-types-are-used',
  'deprecations-have-a-reason',
  'descriptions-are-capitalized',
  'enum-values-all-caps',
  'enum-values-have-descriptions',
  'fields-are-camel-cased',
  'fields-have-descriptions',
  'input-object-values-are-camel-cased',
  'input-object-values-have-descriptions',
  'types-are-capitalized',
  'types-have-descriptions',
];

const bin = createRequire(import.meta.url).resolve('graphql-schema-linter/lib/cli.js');
const run = spawnSync(process.execPath, [bin, '--format', 'json', '--rules', RULES.join(','), process.argv[2]], { encoding: 'utf8' });
process.stdout.write(run.stdout || JSON.stringify({ errors: [{ message: run.stderr }] }));
