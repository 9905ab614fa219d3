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
# @opentelemetry/api is a peer dependency: the version the repo tests with, so that the SDK
# packages the README's example uses (they pin the API's minor) install beside it.
otel() { node -p "require('$root/node_modules/@opentelemetry/$1/package.json').version"; }
npm install --no-audit --no-fund --silent "./$tarball" express@5 express-session@1 "@opentelemetry/api@$(otel api)" >/dev/null

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
test -f node_modules/express-oidc-auth/CHANGELOG.md || { echo 'pack-check: CHANGELOG.md missing from the package'; exit 1; }

# The examples of the README and the guides (docs/examples/), compiled as a user's strictest project would, against
# the packed package and the types of Express 5, then of Express 4.
mkdir -p examples
cp "$root"/docs/examples/*.ts examples/
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2023",
    "lib": ["ES2023", "DOM"],
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "exactOptionalPropertyTypes": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": false,
    "types": ["node"],
    "noEmit": true
  },
  "include": ["examples"]
}
JSON
npm pkg set type=module >/dev/null
typescript=$(node -p "require('$root/node_modules/typescript/package.json').version")
npm install --no-audit --no-fund --silent "typescript@$typescript" @types/node@20 @types/express@5 @types/express-session@1 connect-redis@9 redis@5 pg@8 @types/pg@8 connect-pg-simple@10 @types/connect-pg-simple@7 "@opentelemetry/sdk-metrics@$(otel sdk-metrics)" "@opentelemetry/sdk-trace-base@$(otel sdk-trace-base)" >/dev/null
npx tsc -p tsconfig.json
echo 'pack-check: the examples of the README and the guides compile (strict, exactOptionalPropertyTypes, skipLibCheck: false) with @types/express 5'
npm install --no-audit --no-fund --silent @types/express@4 >/dev/null
npx tsc -p tsconfig.json
echo 'pack-check: and with @types/express 4'

echo "pack-check: ok ($(basename "$tarball"))"
cd "$root"
