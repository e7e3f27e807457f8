// Compatibility scenarios for kafkajs (pure JavaScript).
import kafkajs from 'kafkajs'
import {
  BOOTSTRAP, LARGE_RECORD_BYTES, checkRecords, expect, name, runScenarios, sampleRecords, waitUntil
} from './common.mjs'

const { Kafka, CompressionTypes, logLevel } = kafkajs
const kafka = new Kafka({ clientId: 'runnel-compat', brokers: [BOOTSTRAP], logLevel: logLevel.WARN, retry: { retries: 3 } })
const admin = kafka.admin()

async function createTopic (topic, numPartitions = 3, configEntries = []) {
  await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true })
}

async function produce (records, topic, opts = {}, producerOpts = {}) {
  const producer = kafka.producer({ allowAutoTopicCreation: false, ...producerOpts })
  await producer.connect()
  await producer.send({
    topic,
    acks: -1,
    ...opts,
    messages: records.map(r => ({
      partition: r.partition, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp && String(r.timestamp)
    }))
  })
  await producer.disconnect()
}

const toRecord = (partition, m) => ({
  partition, offset: Number(m.offset), key: m.key, value: m.value, headers: m.headers, timestamp: Number(m.timestamp)
})

// Consumes n records from the start of topic with a fresh group; returns them.
async function consumeGroup (groupId, topic, n, { fromBeginning = true, commit = true, timeoutMs = 20000 } = {}) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 })
  const got = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning })
  await consumer.run({
    autoCommit: commit,
    eachMessage: async ({ partition, message }) => { if (got.length < n) got.push(toRecord(partition, message)) }
  })
  try {
    await waitUntil(() => got.length >= n, timeoutMs, `${n} records`)
  } finally {
    await consumer.disconnect()
  }
  return got
}

await admin.connect()

await runScenarios({
  async bootstrap () {
    const cluster = await admin.describeCluster()
    expect(cluster.brokers.length === 1, `brokers ${JSON.stringify(cluster.brokers)}`)
    return `kafkajs 2.2.4, controller ${cluster.controller}`
  },

  async topic_admin () {
    const topic = name('admin')
    await createTopic(topic, 2, [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }])
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(md.topics[0].partitions.length === 2, `partitions ${md.topics[0].partitions.length}`)
    const cfg = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false })
    const entries = Object.fromEntries(cfg.resources[0].configEntries.map(e => [e.configName, e.configValue]))
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
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    let seen = 0
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        seen++
        if (Number(message.offset) === 3) {
          await consumer.commitOffsets([{ topic, partition: 0, offset: '4' }])
          consumer.pause([{ topic }])
        }
      }
    })
    await waitUntil(() => seen >= 4, 20000, 'first 4 records')
    await consumer.disconnect()
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    expect(offsets[0].partitions[0].offset === '4', `committed ${JSON.stringify(offsets)}`)
    const rest = await consumeGroup(groupId, topic, 6)
    expect(rest.map(r => r.offset).join() === '4,5,6,7,8,9', `resumed at ${rest.map(r => r.offset)}`)
  },

  async rebalance () {
    const topic = name('rb')
    await createTopic(topic, 4)
    const groupId = name('rb-g')
    const assignments = {}
    const member = async id => {
      const c = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10000, maxWaitTimeInMs: 200 })
      c.on(c.events.GROUP_JOIN, e => { assignments[id] = (e.payload.memberAssignment[topic] ?? []).length })
      await c.connect()
      await c.subscribe({ topic })
      await c.run({ eachMessage: async () => {} })
      return c
    }
    const a = await member('a')
    await waitUntil(() => assignments.a === 4, 20000, 'first member owns 4')
    const b = await member('b')
    await waitUntil(() => assignments.a === 2 && assignments.b === 2, 30000, '2/2 split after join')
    await b.disconnect()
    await waitUntil(() => assignments.a === 4, 30000, '4 again after leave')
    await a.disconnect()
  },

  async replay () {
    const topic = name('rp')
    await createTopic(topic, 1)
    const records = sampleRecords(10, 1)
    await produce(records, topic)
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, records[6].timestamp)
    expect(byTime[0].offset === '6', `offset for timestamp ${JSON.stringify(byTime)}`)
    const groupId = name('rp-g')
    await consumeGroup(groupId, topic, 10)
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '6' }] })
    let got = await consumeGroup(groupId, topic, 4)
    expect(got.map(r => r.offset).join() === '6,7,8,9', `after setOffsets ${got.map(r => r.offset)}`)
    await admin.resetOffsets({ groupId, topic, earliest: true })
    got = await consumeGroup(groupId, topic, 10)
    expect(got.map(r => r.offset).join() === '0,1,2,3,4,5,6,7,8,9', `after reset ${got.map(r => r.offset)}`)
    const wm = await admin.fetchTopicOffsets(topic)
    expect(wm[0].low === '0' && wm[0].high === '10', `watermarks ${JSON.stringify(wm)}`)
  },

  async compression () {
    const topic = name('z-gzip')
    await createTopic(topic, 1)
    const records = sampleRecords(20, 1)
    await produce(records, topic, { compression: CompressionTypes.GZIP })
    checkRecords(records, await consumeGroup(name('z-g'), topic, records.length))
    return 'gzip (snappy, lz4, zstd need third-party codec packages)'
  },

  async idempotent () {
    const topic = name('idem')
    await createTopic(topic)
    const records = sampleRecords(30)
    await produce(records, topic, {}, { idempotent: true, maxInFlightRequests: 1 })
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
    const show = rs => JSON.stringify(rs.map(r => [r.key && r.key.toString(), r.value && r.value.toString()]))
    for (const [topic, records] of cases) {
      await produce(records, topic)
      const got = await consumeGroup(name('nul-g') + topic, topic, records.length)
      expect(show(got) === show(records), `got ${show(got)}`)
    }
  }
})

await admin.disconnect()
process.exit(0)
