#!/usr/bin/env bash
# Re-vendor the front-end libraries from the npm registry into static/vendor/ (no CDN at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent htmx.org@2.0.11 socket.io-client@4.8.4 axe-core@4.14.1 >/dev/null)
for tgz in "$work"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
cp "$work"/htmx.org-*/package/dist/htmx.min.js static/vendor/
cp "$work"/socket.io-client-*/package/dist/socket.io.min.js static/vendor/
cp "$work"/axe-core-*/package/axe.min.js static/vendor/
echo "Vendored into static/vendor/ (versions in static/vendor/VERSIONS)."
