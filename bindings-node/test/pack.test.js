'use strict'
// The package as users get it: `npm pack`, installed from the tarball into a
// fresh project, used from CommonJS and from an ES module.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

test('the packed tarball installs and works', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'friendgate-pack-'))
  try {
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: path.join(__dirname, '..') })
    const tarball = path.join(work, out.toString().trim().split('\n').pop())
    const app = path.join(work, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}')
    execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--offline', tarball], { cwd: app })
    const script = `
      const { CallbackHandler, allow, reject } = require('friendgate')
      const { signedQuery, sampleBody } = require('friendgate/testing')
      const h = new CallbackHandler({ appIds: [1400000000], tokens: ['t'] })
      const r = h.handle(signedQuery(1400000000, 't'), sampleBody(), (e, i) => i.index ? reject(38001, 'x') : allow())
      console.log(r.status, r.body.toString().includes('"ResultCode":38001'))`
    assert.equal(execFileSync('node', ['-e', script], { cwd: app }).toString().trim(), '200 true')
    const esm = `
      import { CallbackHandler } from 'friendgate'
      import { signedQuery, sampleBody } from 'friendgate/testing'
      import { requestListener } from 'friendgate/http'
      const h = new CallbackHandler({ appIds: [1400000000], tokens: ['t'] })
      console.log(h.handle(signedQuery(1400000000, 't'), sampleBody()).status, typeof requestListener)`
    assert.equal(execFileSync('node', ['--input-type=module', '-e', esm], { cwd: app }).toString().trim(), '200 function')
    const files = fs.readdirSync(path.join(app, 'node_modules', 'friendgate'))
    for (const expected of ['lib', 'native.js', 'native.d.ts', 'package.json', 'README.md']) assert.ok(files.includes(expected), expected)
    assert.ok(files.some((f) => f.endsWith('.node')), 'the addon is in the package')
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
})
