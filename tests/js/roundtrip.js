#!/usr/bin/env node
// KafkaJS 2.2.4 against kbroker (run by tests/test_kafkajs.py).
//
// usage: node roundtrip.js BOOTSTRAP TOPIC
//
// Creates TOPIC with 3 partitions (admin.createTopics, which then polls Metadata), sends
// 1000 keyed records with headers in 10 sends of 100 (the 4th gzip-compressed), checks each
// send's base offsets, then checks the high watermarks and log start offsets from
// admin.fetchTopicOffsets (ListOffsets). The records are not consumed here (KafkaJS's group
// consumer is tested by group_member.js): every record sent is printed on stdout as one JSON line
// {"p": partition, "o": offset, "k": key, "v": value, "h": {header: value}} for the caller
// to compare with what kconsume and kcat read back.
//
// Exit status 0 when everything matched; 1 with the reason on stderr otherwise.
'use strict';

const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const N = 1000;
const SENDS = 10;
const GZIP_SEND = 3;
const PARTITIONS = 3;

function fail(msg) {
  throw new Error(msg);
}

function record(i) {
  return {
    partition: i % PARTITIONS,
    key: `key-${i % 97}`,
    value: `value-${i}-${'x'.repeat(i % 120)}`,
    headers: { seq: String(i), kind: i % 2 ? 'odd' : 'even' },
  };
}

async function main() {
  const [bootstrap, topic] = process.argv.slice(2);
  if (!bootstrap || !topic) {
    process.stderr.write('usage: node roundtrip.js BOOTSTRAP TOPIC\n');
    process.exit(2);
  }
  const kafka = new Kafka({
    clientId: 'kpipe-kafkajs-test',
    brokers: [bootstrap],
    logLevel: logLevel.ERROR,
    connectionTimeout: 10000,
    requestTimeout: 30000,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    if (created !== true) fail(`createTopics returned ${created}`);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const parts = md.topics[0].partitions.map((p) => p.partitionId).sort();
    if (JSON.stringify(parts) !== '[0,1,2]') fail(`metadata partitions ${JSON.stringify(parts)}`);

    await producer.connect();
    const next = new Array(PARTITIONS).fill(0); // next offset per partition
    const out = [];
    const per = N / SENDS;
    for (let s = 0; s < SENDS; s++) {
      const msgs = [];
      for (let i = s * per; i < (s + 1) * per; i++) msgs.push(record(i));
      const res = await producer.send({
        topic,
        acks: -1,
        compression: s === GZIP_SEND ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: msgs,
      });
      const base = {};
      for (const r of res) {
        if (r.topicName !== topic || r.errorCode !== 0) fail(`send ${s}: ${JSON.stringify(r)}`);
        base[r.partition] = Number(r.baseOffset);
      }
      for (let p = 0; p < PARTITIONS; p++) {
        if (base[p] !== next[p]) fail(`send ${s}: partition ${p} base offset ${base[p]}, want ${next[p]}`);
      }
      for (const m of msgs) {
        out.push({ p: m.partition, o: next[m.partition]++, k: m.key, v: m.value, h: m.headers });
      }
    }

    const offsets = await admin.fetchTopicOffsets(topic);
    if (offsets.length !== PARTITIONS) fail(`fetchTopicOffsets: ${JSON.stringify(offsets)}`);
    for (const o of offsets) {
      const want = next[o.partition];
      if (Number(o.high) !== want || Number(o.offset) !== want || Number(o.low) !== 0) {
        fail(`partition ${o.partition}: offsets ${JSON.stringify(o)}, want high ${want} low 0`);
      }
    }
    process.stdout.write(out.map((r) => JSON.stringify(r)).join('\n') + '\n');
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

main().catch((e) => {
  process.stderr.write(`roundtrip.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
