// kafkajs (pure JavaScript, its own protocol code) against a running pinlog broker.
//
// Usage: node kafkajs_check.js HOST:PORT
// Exits non-zero, with the failed check, when the broker answers anything a Kafka broker
// would not. Run by tools/tests/node_clients.rs.

const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const TOPIC = 'js-orders';
const GROUP = 'js-group';
const RECORDS = 1000;

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(bootstrap) {
  const kafka = new Kafka({ clientId: 'pinlog-check', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  check(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] }), 'topic created');
  check((await admin.listTopics()).includes(TOPIC), 'the new topic is listed');

  // An idempotent producer (InitProducerId, sequences), gzip batches, keyed records.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: RECORDS }, (_, i) => ({
    key: `customer-${i % 17}`,
    value: `order-${String(i).padStart(6, '0')}`,
  }));
  const sent = await producer.send({ topic: TOPIC, acks: -1, compression: CompressionTypes.GZIP, messages });
  check(sent.every((r) => r.errorCode === 0), `acknowledged: ${JSON.stringify(sent)}`);
  await producer.disconnect();

  // A group consumer reads everything once; kafkajs commits as it goes and on disconnect.
  const consumer = kafka.consumer({ groupId: GROUP });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const values = new Set();
  let received = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${received} of ${RECORDS} in 30 s`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        values.add(message.value.toString());
        if (++received === RECORDS) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  check(received === RECORDS && values.size === RECORDS, `every record once: ${received}, ${values.size} distinct`);

  const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const committed = offsets.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  check(committed === RECORDS, `committed offsets add up to ${RECORDS}: ${JSON.stringify(offsets)}`);
  const topicOffsets = await admin.fetchTopicOffsets(TOPIC);
  const high = topicOffsets.reduce((sum, p) => sum + Number(p.high), 0);
  check(high === RECORDS, `high watermarks add up to ${RECORDS}: ${JSON.stringify(topicOffsets)}`);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
  check(groups.includes(GROUP), `the group is listed: ${groups}`);
  const state = async () => (await admin.describeGroups([GROUP])).groups[0].state;
  for (let i = 0; i < 100 && (await state()) !== 'Empty'; i++) await sleep(100);
  check((await state()) === 'Empty', `the group is empty after its consumer left: ${await state()}`);

  // Topic configs: set one, read it back.
  await admin.alterConfigs({
    resources: [{ type: 2, name: TOPIC, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  const described = await admin.describeConfigs({ resources: [{ type: 2, name: TOPIC, configNames: ['retention.ms'] }] });
  const entry = described.resources[0].configEntries.find((e) => e.configName === 'retention.ms');
  check(entry && entry.configValue === '3600000', `retention.ms reads back: ${JSON.stringify(described)}`);
  let refusal = null;
  try {
    await admin.alterConfigs({
      resources: [{ type: 2, name: TOPIC, configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
    });
  } catch (error) {
    refusal = error;
  }
  check(refusal && refusal.type === 'INVALID_CONFIG', `a bad value is refused: ${refusal && refusal.type}`);

  // Partitions, records and groups go away as asked.
  await admin.createPartitions({ topicPartitions: [{ topic: TOPIC, count: 4 }] });
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  check(metadata.topics[0].partitions.length === 4, `four partitions: ${JSON.stringify(metadata)}`);
  await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '1' }] });
  const low = (await admin.fetchTopicOffsets(TOPIC)).find((p) => p.partition === 0).low;
  check(low === '1', `partition 0 starts at offset 1: ${low}`);
  await admin.deleteGroups([GROUP]);
  check(!(await admin.listGroups()).groups.some((g) => g.groupId === GROUP), 'the group is deleted');
  await admin.deleteTopics({ topics: [TOPIC] });
  await admin.disconnect();
  console.log(`kafkajs: ${RECORDS} records produced, consumed by a group, admin checks passed`);
}

main(process.argv[2]).catch((error) => {
  console.error('FAILED:', error);
  process.exit(1);
});
