'use strict'
// The README's TypeScript snippets compile under `strict`, against the
// package's own declarations (resolved by name, as a user's project does).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

test('README TypeScript snippets type-check under strict', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const snippets = [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1])
  assert.ok(snippets.length >= 4, 'the README lost its examples')
  // Inside the package, so `friendgate` resolves to it by self-reference.
  const dir = path.join(root, 'test', '.readme')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir)
  try {
    const files = snippets.map((code, i) => {
      const file = `snippet${i}.mts`
      fs.writeFileSync(path.join(dir, file), code)
      return file
    })
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: true },
      files,
    }))
    try {
      execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', dir], { stdio: 'pipe' })
    } catch (error) {
      assert.fail(error.stdout.toString())
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
