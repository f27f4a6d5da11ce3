#!/usr/bin/env bash
# Builds a self-contained govauth installation in OUTPUT_DIR: the files the server and the CLI
# need, production dependencies only (`npm ci --omit=dev`: no second Node runtime, no test or
# lint tools), the Prisma clients generated for both databases, and Node's compile cache filled
# (both by the postinstall, scripts/postinstall.ts). Start it with OUTPUT_DIR/deploy/start.sh.
#
#   deploy/build.sh OUTPUT_DIR
#
# The Dockerfile runs this in its build stage, and .ci/deploy-smoke runs it in CI, so the image's
# build steps are tested where no container engine runs.
#
# Run it with the Node that will run the server first on PATH (Node 24): the postinstall runs on
# it and refuses an older one, and the compile cache it fills is only valid for that Node and
# for OUTPUT_DIR's absolute path (build in place, or copy to the same path, as the Dockerfile
# does). The npm that installs can run on any Node.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: deploy/build.sh OUTPUT_DIR   (a new or empty directory)" >&2
  exit 2
fi
src="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "deploy/build.sh: $out is not empty; give a new or empty directory" >&2
  exit 2
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
case "$out/" in
  "$src"/*) echo "deploy/build.sh: $out is inside the source tree $src; build elsewhere" >&2; exit 2 ;;
esac

# Fail before copying anything if the Node on PATH cannot run govauth.
node "$src/scripts/require-node.js"

# What the server and the CLI read at run time, and what the postinstall needs to generate the
# Prisma clients (prisma.config.ts, prisma/) and fill the compile cache. Not copied: tests,
# benchmarks, the generated clients of the source tree (generated again for this install), data.
(
  cd "$src"
  tar -cf - \
    --exclude='src/db/generated' \
    package.json package-lock.json LICENSE README.md SECURITY.md .env.example \
    bin src prisma prisma.config.ts views \
    scripts/require-node.js scripts/postinstall.ts scripts/generate-prisma-clients.ts scripts/warm-compile-cache.ts \
    deploy/start.sh
) | tar -xf - -C "$out"

cd "$out"
# --omit=dev: production dependencies only. The postinstall generates the Prisma clients with
# the prisma CLI (a dependency for that reason; the server itself applies migrations without
# it, src/db/migrate.ts), links node_modules/.bin/govauth and fills the compile cache.
npm ci --omit=dev --no-audit --no-fund

# The runtime must come from the host (or the image), never from node_modules.
if [ -e node_modules/node ]; then
  echo "deploy/build.sh: node_modules/node is installed: the Node runtime must stay a devDependency" >&2
  exit 1
fi
for generated in src/db/generated/sqlite/client.ts src/db/generated/postgresql/client.ts node_modules/.bin/govauth; do
  [ -e "$generated" ] || { echo "deploy/build.sh: $generated is missing after install" >&2; exit 1; }
done
echo "govauth built in $out ($(du -sh "$out" | cut -f1)); start it with $out/deploy/start.sh"
