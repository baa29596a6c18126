// Preloaded by every npm script that runs the TypeScript sources (`node -r ./scripts/require-node.cjs
// src/main.ts`): on a Node outside package.json's `engines.node`, it stops the process with one
// line naming the version needed and the command that gets it, before Node tries to load a .ts
// file (which an older Node refuses with ERR_UNKNOWN_FILE_EXTENSION, naming neither).
//
// Plain CommonJS in the syntax of old Node versions (var, no arrow functions): it must run on the
// very versions it turns away. `npm install` is stopped earlier, by npm itself (engine-strict in
// .npmrc): npm runs a root `preinstall` script only after it has installed the dependencies.
'use strict';

var fs = require('fs');
var path = require('path');

var GET_NODE = 'eval "$(bash scripts/tools.sh node)"';

function parts(version) {
  var numbers = version.replace(/^v/, '').split('.');
  return [0, 1, 2].map(function (index) {
    return Number(numbers[index] || 0);
  });
}

function compare(a, b) {
  for (var index = 0; index < 3; index++) {
    if (a[index] !== b[index]) return a[index] < b[index] ? -1 : 1;
  }
  return 0;
}

// The comparators npm writes for engines (">=24.18 <25"): each must hold. Anything else (||, ^,
// ~, x) is refused loudly rather than misread.
function satisfies(version, range) {
  var current = parts(version);
  return range
    .trim()
    .split(/\s+/)
    .every(function (comparator) {
      var match = /^(>=|<=|>|<|=)?(\d+(\.\d+){0,2})$/.exec(comparator);
      if (!match) throw new Error('scripts/require-node.cjs cannot read the engines.node comparator "' + comparator + '"');
      var order = compare(current, parts(match[2]));
      switch (match[1] || '=') {
        case '>=':
          return order >= 0;
        case '<=':
          return order <= 0;
        case '>':
          return order > 0;
        case '<':
          return order < 0;
        default:
          return order === 0;
      }
    });
}

var manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
var range = manifest.engines.node;
if (!satisfies(process.versions.node, range)) {
  process.stderr.write(
    'tenant-authz needs Node ' + range + ', not ' + process.version + ': run  ' + GET_NODE + '  to put the pinned Node first on PATH in this shell, then try again\n',
  );
  process.exit(1);
}
