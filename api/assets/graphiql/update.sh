#!/usr/bin/env bash
# Refreshes the GraphiQL page's assets from the npm registry at the pinned versions below and
# checks them against SHA256SUMS. The service embeds these files at build time
# (api/src/graphiql.rs), so GraphiQL works offline and never loads code from a CDN.
# After changing a version: run this with UPDATE_SUMS=1, review the diff, commit.
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=3.8.3
REACT=18.3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for pkg in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$work/$pkg" && tar xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
strip_map() { sed '/^\/\/# sourceMappingURL=/d; /^\/\*# sourceMappingURL=/d' "$1"; }
strip_map "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" > graphiql.min.js
strip_map "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" > graphiql.min.css
cp "$work/react-$REACT/package/umd/react.production.min.js" react.production.min.js
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" react-dom.production.min.js
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" LICENSE.graphiql
cp "$work/react-$REACT/package/LICENSE" LICENSE.react
files="graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js"
if [ "${UPDATE_SUMS:-}" = 1 ]; then
  sha256sum $files > SHA256SUMS
fi
sha256sum -c SHA256SUMS
