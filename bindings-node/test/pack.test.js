'use strict'
// The packages as users get them: the two tarballs `make node-dist` packs
// (FRIENDGATE_NODE_DIST), installed into fresh projects with no Rust
// toolchain on PATH, used from CommonJS, an ES module and strict TypeScript;
// and the main package alone, whose missing addon names what to install.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const dist = process.env.FRIENDGATE_NODE_DIST
const pkg = require('../package.json')
const devDependencies = pkg.devDependencies

function tarballs() {
  assert.ok(dist && fs.existsSync(dist), 'FRIENDGATE_NODE_DIST names the packed tarballs: run `make node-dist` (make test-node does)')
  const main = path.join(dist, `friendgate-${pkg.version}.tgz`)
  const platform = path.join(dist, `friendgate-linux-x64-gnu-${pkg.version}.tgz`)
  for (const file of [main, platform]) assert.ok(fs.existsSync(file), file)
  return { main, platform }
}

// PATH without any directory holding cargo or rustc: the user has no Rust.
const env = {
  ...process.env,
  PATH: process.env.PATH.split(path.delimiter)
    .filter((dir) => !['cargo', 'rustc'].some((bin) => fs.existsSync(path.join(dir, bin))))
    .join(path.delimiter),
}

function project(name, dependencies = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `friendgate-${name}-`))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies }))
  return dir
}

const run = (cwd, cmd, args) => execFileSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim()

test('the main and platform tarballs install without Rust and work from CJS, ESM and strict TypeScript', () => {
  const { main, platform } = tarballs()
  const app = project('consumer', {
    typescript: devDependencies.typescript,
    '@types/node': devDependencies['@types/node'],
  })
  try {
    assert.throws(() => run(app, 'cargo', ['--version']), 'cargo is not on the test PATH')
    run(app, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', main, platform])
    const installed = fs.readdirSync(path.join(app, 'node_modules', 'friendgate'))
    assert.ok(!installed.some((f) => f.endsWith('.node')), 'the main package holds no addon')
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'friendgate-linux-x64-gnu', 'friendgate.linux-x64-gnu.node')))

    fs.writeFileSync(path.join(app, 'cjs.js'), `
      const { CallbackHandler, allow, reject } = require('friendgate')
      const { signedQuery, sampleBody } = require('friendgate/testing')
      const h = new CallbackHandler({ appIds: [1400000000], tokens: ['t'] })
      const r = h.handle(signedQuery(1400000000, 't'), sampleBody(), (e, i) => i.index ? reject(38001, 'x') : allow())
      console.log(r.status, r.body.toString().includes('"ResultCode":38001'))`)
    assert.equal(run(app, 'node', ['cjs.js']), '200 true')

    fs.writeFileSync(path.join(app, 'esm.mjs'), `
      import { CallbackHandler } from 'friendgate'
      import { signedQuery, sampleBody } from 'friendgate/testing'
      import { requestListener } from 'friendgate/http'
      import { friendgate } from 'friendgate/fastify'
      const h = new CallbackHandler({ appIds: [1400000000], tokens: ['t'] })
      console.log(h.handle(signedQuery(1400000000, 't'), sampleBody()).status, typeof requestListener, typeof friendgate)`)
    assert.equal(run(app, 'node', ['esm.mjs']), '200 function function')

    fs.writeFileSync(path.join(app, 'consumer.ts'), `
      import { CallbackHandler, allow, reject, type SyncDecide, type Reply } from 'friendgate'
      import { signedQuery, sampleBody } from 'friendgate/testing'
      const token = process.env.FRIENDGATE_TOKEN ?? 't'
      const handler = new CallbackHandler({ appIds: [1400000000], tokens: [token] })
      // handle() is synchronous: its decider is a SyncDecide (a Decide may
      // return a Promise, which handle() would answer as a failed decision).
      const decide: SyncDecide = (event, item) => (item.remark.includes('spam') || event.fromAccount === 'x' ? reject(38001, 'no') : allow())
      const reply: Reply = handler.handle(signedQuery(1400000000, 't'), sampleBody(), decide)
      console.log(reply.status)`)
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], outDir: 'out' },
      files: ['consumer.ts'],
    }))
    run(app, path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'])
    assert.equal(run(app, 'node', ['out/consumer.js']), '200')
  } finally {
    fs.rmSync(app, { recursive: true, force: true })
  }
})

test('without its platform package, loading names the package to install', () => {
  const { main } = tarballs()
  const app = project('no-addon')
  try {
    run(app, 'npm', ['install', '--no-audit', '--no-fund', '--offline', '--omit=optional', '--loglevel=error', main])
    const script = `try { require('friendgate') } catch (e) { console.log(e.code + '|' + e.message) }`
    const [code, message] = run(app, 'node', ['-e', script]).split('|')
    assert.equal(code, 'FRIENDGATE_ADDON_MISSING')
    assert.match(message, /native addon for linux-x64-gnu is not installed/)
    assert.match(message, new RegExp(`npm install friendgate-linux-x64-gnu@${pkg.version.replace(/\./g, '\\.')}`))
  } finally {
    fs.rmSync(app, { recursive: true, force: true })
  }
})

test('a source checkout installed without its build says to run the build', () => {
  // What `npm install ./bindings-node` gives before `npm run build`: the
  // JavaScript and the generated loader, no addon, no platform packages.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'friendgate-unbuilt-'))
  try {
    for (const file of ['package.json', 'lib', 'native.js']) {
      fs.cpSync(path.join(__dirname, '..', file), path.join(dir, file), { recursive: true })
    }
    const script = `try { require(${JSON.stringify(dir)}) } catch (e) { console.log(e.code + '|' + e.message) }`
    const [code, message] = run(os.tmpdir(), 'node', ['-e', script]).split('|')
    assert.equal(code, 'FRIENDGATE_ADDON_MISSING')
    assert.match(message, /the native addon is not built\. Run `npm run build`/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
