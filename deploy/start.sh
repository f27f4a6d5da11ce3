#!/bin/sh
# Starts the govauth server of this installation (a checkout after `npm install`, or the output
# of deploy/build.sh) with the command of package.json's "start" script, so the V8 and allocator
# settings and the compile cache live in one place, but without npm in between: the server is
# then the process a supervisor (systemd, the container runtime) starts and signals, SIGTERM
# reaches it directly and drains it, and no npm process sits beside it (~50 MB, logs in $HOME).
# Configuration comes from the environment (.env.example, docs/production.md).
set -eu
cd "$(dirname "$0")/.."
node scripts/require-node.js
start=$(node -p 'require("./package.json").scripts.start')
case "$start" in
  *[\;\&\|\`\$\<\>\(\)\"\']*) echo "deploy/start.sh: unexpected shell syntax in package.json's start script: $start" >&2; exit 1 ;;
esac
# The start script is `VAR=value … node <flags> src/main.ts`; env runs it the same way, and exec
# makes node this process.
set -f # split the command into words, expand no patterns
# shellcheck disable=SC2086 # word splitting of the start command is intended
exec env $start
