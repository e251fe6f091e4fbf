#!/usr/bin/env node
// KafkaJS 2.2.4's consumer as one member of a consumer group (run by tests/test_group_clients.py).
//
// usage: node group_member.js BOOTSTRAP TOPIC GROUP
//
// Subscribes to TOPIC (fromBeginning: offsets reset to the earliest) in GROUP with KafkaJS's
// default assigner (round robin, the classic protocol), heartbeats every 500 ms, and consumes
// with eachBatch, resolving each batch and auto-committing after it, until its standard input
// reaches end of file; then disconnects (which commits and leaves the group) and exits 0.
//
// Prints "A P,P,..." with its whole assignment (partitions of TOPIC) after every join and
// sync (GROUP_JOIN; KafkaJS's protocol is eager, so each join replaces the assignment), and
// "M PARTITION OFFSET" a record. A consumer crash that KafkaJS will not restart from, or any
// other error, exits 1 with the reason on stderr.
'use strict';

const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, group] = process.argv.slice(2);
  if (!group) {
    console.error('usage: node group_member.js BOOTSTRAP TOPIC GROUP');
    process.exit(2);
  }
  const kafka = new Kafka({ clientId: 'kpipe-kafkajs-group', brokers: [bootstrap],
                            logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000,
                                    heartbeatInterval: 500, rebalanceTimeout: 30000,
                                    maxWaitTimeInMs: 200 });
  // Pipes are written synchronously on Linux: lines are out, in order, when write returns.
  const write = (s) => process.stdout.write(s);

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const parts = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
    write(`A ${parts.join(',')}\n`);
  });
  consumer.on(consumer.events.CRASH, (e) => {
    console.error(`group_member.js: consumer crashed (restart: ${e.payload.restart}): ` +
                  `${e.payload.error && e.payload.error.stack}`);
    if (!e.payload.restart) process.exit(1);
  });

  let stopping = false;
  process.stdin.on('end', async () => {
    if (stopping) return;
    stopping = true;
    try {
      await consumer.disconnect();
      process.exit(0);
    } catch (err) {
      console.error(`group_member.js: disconnect: ${err.stack}`);
      process.exit(1);
    }
  });
  process.stdin.resume();

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      let s = '';
      for (const m of batch.messages) s += `M ${batch.partition} ${m.offset}\n`;
      write(s);
    },
  });
}

main().catch((err) => {
  console.error(`group_member.js: ${err.stack}`);
  process.exit(1);
});
