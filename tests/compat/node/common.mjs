// Shared helpers for the Node.js compatibility clients.
import { randomBytes } from 'node:crypto'

export const BOOTSTRAP = process.env.RUNNEL_BOOTSTRAP ?? '127.0.0.1:9092'
export const RUN_ID = randomBytes(4).toString('hex')
export const LARGE_RECORD_BYTES = 900 * 1024
export const name = kind => `compat-${kind}-${RUN_ID}`
export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

export function expect (cond, what) {
  if (!cond) throw new Error(what)
}

export async function waitUntil (pred, timeoutMs, what, stepMs = 50) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await pred()) return
    await sleep(stepMs)
  }
  throw new Error(`timed out waiting for ${what}`)
}

// Runs each scenario in order, printing RESULT lines for run_client.py.
export async function runScenarios (scenarios) {
  for (const [id, fn] of Object.entries(scenarios)) {
    const start = Date.now()
    try {
      const out = await fn()
      const took = `(${((Date.now() - start) / 1000).toFixed(1)}s)`
      if (Array.isArray(out) && out[0] === 'SKIP') console.log(`RESULT ${id} SKIP ${out[1]}`)
      else console.log(`RESULT ${id} PASS ${out ?? ''} ${took}`)
    } catch (e) {
      console.error(e)
      console.log(`RESULT ${id} FAIL ${String(e?.message ?? e).replace(/\n/g, ' ').slice(0, 300)}`)
    }
  }
}

// Keyed records with headers; key i goes to partition i % partitions.
export function sampleRecords (n, partitions = 3) {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => ({
    partition: i % partitions,
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(`value-${i}`),
    headers: { h1: Buffer.from(`hv-${i}`), h2: Buffer.alloc(0) },
    timestamp: now - 1000 + i
  }))
}

const hex = b => (b == null ? null : Buffer.from(b).toString('hex'))

// got: [{partition, offset (number), key, value, headers {name: Buffer}, timestamp (number)}]
export function checkRecords (expected, got) {
  expect(got.length === expected.length, `got ${got.length} records, expected ${expected.length}`)
  const parts = new Set(got.map(r => r.partition))
  for (const p of parts) {
    const recs = got.filter(r => r.partition === p)
    const offsets = recs.map(r => r.offset)
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `partition ${p} out of order: ${offsets}`)
    const want = expected.filter(e => e.partition === p)
    expect(want.length === recs.length, `partition ${p}: ${recs.length} records, expected ${want.length}`)
    want.forEach((w, i) => {
      const r = recs[i]
      expect(hex(r.key) === hex(w.key), `key ${hex(r.key)} != ${hex(w.key)}`)
      expect(hex(r.value) === hex(w.value), `value ${hex(r.value)} != ${hex(w.value)}`)
      for (const [h, v] of Object.entries(w.headers)) {
        expect(hex(r.headers?.[h]) === hex(v), `header ${h}: ${hex(r.headers?.[h])} != ${hex(v)}`)
      }
      expect(Number(r.timestamp) === w.timestamp, `timestamp ${r.timestamp} != ${w.timestamp}`)
    })
  }
}
