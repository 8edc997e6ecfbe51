// The addon's sources: every .cc under native/, sorted. CMakeLists.txt and binding.gyp both read
// this list, so a new op file is built by both without editing either.
const { readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.cc') ? [relative(root, join(dir, e.name)).split('\\').join('/')] : []);
process.stdout.write(walk(join(root, 'native')).sort().join(' '));
