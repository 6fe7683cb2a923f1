'use strict'
// The native addon, as napi-rs's generated loader finds it: a local build
// (`npm run build`) or the platform package npm chose from
// optionalDependencies. Its failure becomes one error naming what to install.
const pkg = require('../package.json')

/** napi-rs's platform key, as in the platform packages' names: linux-x64-gnu... */
function platformKey() {
  let key = `${process.platform}-${process.arch}`
  if (process.platform === 'linux') {
    const report = process.report && process.report.getReport ? process.report.getReport() : null
    key += report && report.header && report.header.glibcVersionRuntime ? '-gnu' : '-musl'
  }
  return key
}

function missingAddon(cause) {
  const key = platformKey()
  const wanted = `${pkg.name}-${key}`
  const prebuilt = Object.keys(pkg.optionalDependencies || {})
  let message
  if (prebuilt.includes(wanted)) {
    message =
      `friendgate: the native addon for ${key} is not installed. ` +
      `Install its platform package: \`npm install ${wanted}@${pkg.version}\`. ` +
      'npm leaves it out when optional dependencies are omitted (--omit=optional, --no-optional) ' +
      'or when the lockfile was written on another platform.'
  } else if (prebuilt.length > 0) {
    message =
      `friendgate: no prebuilt native addon for ${key} (prebuilt: ${prebuilt.join(', ')}). ` +
      'Build it from source with a Rust toolchain: `npm run build` in bindings-node.'
  } else {
    message = 'friendgate: the native addon is not built. Run `npm run build` (or `make node-build`) in bindings-node.'
  }
  const error = new Error(message, { cause })
  error.code = 'FRIENDGATE_ADDON_MISSING'
  return error
}

let native
try {
  native = require('../native.js')
} catch (cause) {
  throw missingAddon(cause)
}
module.exports = native
