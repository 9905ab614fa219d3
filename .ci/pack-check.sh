#!/usr/bin/env bash
# Proves the published package works for its users: pack it, install the tarball in a
# scratch project, then `import` it (ESM) and `require` it (CommonJS via require(esm)).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
cd "$scratch"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "./$tarball" express@5 express-session@1 >/dev/null

node --input-type=module -e "
import { oidcAuth, requiresAuth, OidcAuthError, OidcAuthErrorCode } from 'express-oidc-auth';
if (typeof oidcAuth !== 'function' || typeof requiresAuth !== 'function') throw new Error('ESM exports missing');
try { oidcAuth({}); throw new Error('expected a config error'); }
catch (e) { if (!(e instanceof OidcAuthError) || e.code !== OidcAuthErrorCode.CONFIG_INVALID) throw e; }
console.log('pack-check: import works');
"
node -e "
const { oidcAuth, OidcAuthError } = require('express-oidc-auth');
if (typeof oidcAuth !== 'function' || typeof OidcAuthError !== 'function') throw new Error('CommonJS exports missing');
console.log('pack-check: require works');
"
test -f node_modules/express-oidc-auth/dist/index.d.ts || { echo 'pack-check: types missing'; exit 1; }
if find node_modules/express-oidc-auth -name '*.test.*' | grep -q .; then echo 'pack-check: tests were packed'; exit 1; fi
echo "pack-check: ok ($(basename "$tarball"))"
cd "$root"
