// The GraphQL over HTTP spec's own audit suite (graphql-http's `auditServer`) against a running
// service. Usage: node http-audit.mjs GRAPHQL_URL API_KEY. Prints the results as one JSON array
// ({ id, name, status: ok | warn | error | notice, reason }); tests/e2e/spec.rs reads it.
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
