// Compatibility scenarios for @platformatic/kafka 1.x (pure JavaScript, recent flexible versions).
import { Admin, Consumer, Producer } from '@platformatic/kafka'
import {
  BOOTSTRAP, LARGE_RECORD_BYTES, checkRecords, expect, name, runScenarios, sampleRecords, sleep, waitUntil
} from './common.mjs'

const base = { clientId: 'runnel-compat', bootstrapBrokers: [BOOTSTRAP], retries: 3, retryDelay: 100 }
const admin = new Admin(base)

async function createTopic (topic, partitions = 3, configs = []) {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs })
}

async function produce (records, topic, opts = {}) {
  const producer = new Producer({ ...base, acks: -1, ...opts })
  try {
    await producer.send({
      messages: records.map(r => ({
        topic,
        partition: r.partition,
        key: r.key ?? undefined,
        value: r.value ?? undefined,
        headers: new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [Buffer.from(k), v])),
        timestamp: r.timestamp === undefined ? undefined : BigInt(r.timestamp)
      }))
    })
  } finally {
    await producer.close()
  }
}

const toRecord = m => ({
  partition: m.partition,
  offset: Number(m.offset),
  key: m.key,
  value: m.value,
  headers: Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v])),
  timestamp: Number(m.timestamp)
})

// Reads n records as group groupId (from committed offsets, else earliest); commits each.
async function consumeGroup (groupId, topic, n, { commit = true, timeoutMs = 20000 } = {}) {
  const consumer = new Consumer({ ...base, groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTime: 200 })
  const got = []
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false })
    const done = new Promise((resolve, reject) => {
      stream.on('data', async m => {
        if (got.length >= n) return
        got.push(toRecord(m))
        if (commit) await m.commit()
        if (got.length >= n) resolve()
      })
      stream.on('error', reject)
      setTimeout(() => reject(new Error(`got ${got.length} of ${n} records`)), timeoutMs)
    })
    await done
    await stream.close()
  } finally {
    await consumer.close(true)
  }
  got.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  return got
}

await runScenarios({
  async bootstrap () {
    const md = await admin.metadata({ topics: [] })
    expect(md.brokers.size === 1, `brokers ${md.brokers.size}`)
    return `@platformatic/kafka 1.35.0, cluster ${md.id}`
  },

  async topic_admin () {
    const topic = name('admin')
    await createTopic(topic, 2, [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }])
    const md = await admin.metadata({ topics: [topic] })
    expect(md.topics.get(topic).partitionsCount === 2, `partitions ${md.topics.get(topic).partitionsCount}`)
    const cfg = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic }] })
    const entries = Object.fromEntries(cfg[0].configs.map(e => [e.name, e.value]))
    expect(entries['retention.ms'] === '3600000', `retention.ms ${entries['retention.ms']}`)
    expect(entries['cleanup.policy'] === 'compact', `cleanup.policy ${entries['cleanup.policy']}`)
    await admin.deleteTopics({ topics: [topic] })
    await waitUntil(async () => !(await admin.listTopics()).includes(topic), 10000, 'topic deletion')
  },

  async produce_consume () {
    const topic = name('pc')
    await createTopic(topic)
    const records = sampleRecords(30)
    await produce(records, topic)
    checkRecords(records, await consumeGroup(name('pc-g'), topic, records.length))
  },

  async two_groups () {
    const topic = name('2g')
    await createTopic(topic)
    const records = sampleRecords(12)
    await produce(records, topic)
    checkRecords(records, await consumeGroup(name('2g-a'), topic, records.length))
    checkRecords(records, await consumeGroup(name('2g-b'), topic, records.length))
  },

  async commit_resume () {
    const topic = name('cr')
    await createTopic(topic, 1)
    await produce(sampleRecords(10, 1), topic)
    const groupId = name('cr-g')
    await consumeGroup(groupId, topic, 4)
    const rest = await consumeGroup(groupId, topic, 6)
    expect(rest.map(r => r.offset).join() === '4,5,6,7,8,9', `resumed at ${rest.map(r => r.offset)}`)
  },

  async rebalance () {
    const topic = name('rb')
    await createTopic(topic, 4)
    const groupId = name('rb-g')
    const owned = c => (c.assignments ?? []).reduce((n, a) => n + a.partitions.length, 0)
    const member = async () => {
      const c = new Consumer({ ...base, groupId, sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10000 })
      const stream = await c.consume({ topics: [topic], mode: 'latest' })
      stream.on('data', () => {})
      return { c, stream }
    }
    const a = await member()
    try {
      await waitUntil(() => owned(a.c) === 4, 20000, 'first member owns 4')
      const b = await member()
      try {
        await waitUntil(() => owned(a.c) === 2 && owned(b.c) === 2, 30000, '2/2 split after join')
      } finally {
        await b.stream.close()
        await b.c.close(true)
      }
      await waitUntil(() => owned(a.c) === 4, 30000, '4 again after leave')
    } finally {
      await a.stream.close()
      await a.c.close(true)
    }
  },

  async replay () {
    const topic = name('rp')
    await createTopic(topic, 1)
    const records = sampleRecords(10, 1)
    await produce(records, topic)
    const consumer = new Consumer({ ...base, groupId: name('rp-g') })
    try {
      const byTime = await consumer.listOffsets({ topics: [topic], timestamp: BigInt(records[6].timestamp) })
      expect(byTime.get(topic)[0] === 6n, `offset for timestamp ${byTime.get(topic)}`)
      const stream = await consumer.consume({ topics: [topic], mode: 'manual', offsets: [{ topic, partition: 0, offset: 6n }] })
      const got = []
      for await (const m of stream) {
        got.push(Number(m.offset))
        if (got.length === 4) break
      }
      await stream.close()
      expect(got.join() === '6,7,8,9', `by time ${got}`)
      const latest = await consumer.listOffsets({ topics: [topic] })
      expect(latest.get(topic)[0] === 10n, `latest ${latest.get(topic)}`)
    } finally {
      await consumer.close(true)
    }
  },

  async compression () {
    const done = []
    // zstd is left out: this client compresses with node:zlib's zstd, which needs Node >= 22.15.
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      const topic = name(`z-${codec}`)
      await createTopic(topic, 1)
      const records = sampleRecords(20, 1)
      await produce(records, topic, { compression: codec })
      checkRecords(records, await consumeGroup(name('z-g'), topic, records.length))
      done.push(codec)
    }
    return `${done.join()} (zstd needs Node >= 22.15 in this client)`
  },

  async idempotent () {
    const topic = name('idem')
    await createTopic(topic)
    const records = sampleRecords(30)
    await produce(records, topic, { idempotent: true })
    checkRecords(records, await consumeGroup(name('idem-g'), topic, records.length))
  },

  async large_record () {
    const topic = name('big')
    await createTopic(topic, 1)
    const value = Buffer.alloc(LARGE_RECORD_BYTES, 7)
    await produce([{ partition: 0, key: Buffer.from('big'), value, headers: {} }], topic)
    const got = await consumeGroup(name('big-g'), topic, 1)
    expect(got.length === 1 && Buffer.compare(got[0].value, value) === 0, 'large record differs')
  },

  async null_empty_tombstone () {
    // A null key goes to a plain topic: compacted topics reject it (INVALID_RECORD), as Kafka does.
    const plain = name('nul')
    const compacted = name('tomb')
    await createTopic(plain, 1)
    await createTopic(compacted, 1, [{ name: 'cleanup.policy', value: 'compact' }])
    const cases = [
      [plain, [{ partition: 0, key: null, value: Buffer.from('no-key') }, { partition: 0, key: null, value: Buffer.alloc(0) }]],
      [compacted, [
        { partition: 0, key: Buffer.from('k-empty'), value: Buffer.alloc(0) },
        { partition: 0, key: Buffer.from('k-tomb'), value: Buffer.from('v') },
        { partition: 0, key: Buffer.from('k-tomb'), value: null }]]
    ]
    // The client decodes a null value or key as an empty buffer, so only lengths are compared.
    const show = rs => JSON.stringify(rs.map(r => [r.key?.toString() ?? '', r.value?.toString() ?? '']))
    for (const [topic, records] of cases) {
      await produce(records, topic)
      const got = await consumeGroup(name('nul-g') + topic, topic, records.length)
      expect(show(got) === show(records), `got ${show(got)}`)
    }
  }
})

await admin.close()
await sleep(10)
process.exit(0)
