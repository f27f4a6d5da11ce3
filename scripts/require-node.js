// Runs first in `postinstall` (package.json) on the `node` npm finds first on PATH, which is the
// Node that will run govauth: in a development install the Node 24 of the `node` devDependency
// (npm puts node_modules/.bin first), in a production install (`npm ci --omit=dev`, the
// Dockerfile, deploy/build.sh) the host's own Node. Plain JavaScript, so that an older Node gets
// this message instead of failing on TypeScript it cannot strip.
//
// This is the runtime check, and not `engines` in package.json: npm compares `engines` with the
// Node that runs npm itself, which in a development checkout is the system Node (any version that
// runs npm; `devEngines` states it), not the Node 24 that runs govauth.
const REQUIRED_MAJOR = 24;
const [major] = process.versions.node.split('.').map(Number);
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `govauth needs Node.js ${REQUIRED_MAJOR} to run; the node on PATH is ${process.version} (${process.execPath}).\n` +
      '  Development: run `npm install` without --omit=dev; the `node` devDependency brings Node 24.\n' +
      '  Production: install Node.js 24 LTS on the host (or use the node:24 image, deploy/Dockerfile).\n',
  );
  process.exit(1);
}
