// A client of dermcap written the way another team would write one, with none of dermcap's code:
// kafkajs for Kafka and @kafkajs/confluent-schema-registry for the Confluent wire format. It
// registers the published request schema, produces requests (good ones and ones that must
// fail), reads the caption and failure topics, decodes every outcome with the published schemas
// as readers, and prints what it saw. Run by OutsideClientIT: node outside-client.mjs CONFIG.json
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const log = (...args) => console.log('[outside-client]', ...args);
const published = (name) => readFileSync(join(config.schemaDir, `${name}.avsc`), 'utf8');
const example = (name) => JSON.parse(readFileSync(join(config.schemaDir, 'examples', `${name}.json`), 'utf8'));

// 1. The published schemas are self-contained: avsc parses each alone, and each example is valid.
for (const name of ['CaptionRequest', 'CaptionEvent', 'FailureEvent']) {
  if (!existsSync(join(config.schemaDir, 'examples', `${name}.json`))) {
    throw new Error(`no examples/${name}.json beside ${name}.avsc`);
  }
  const type = avsc.Type.forSchema(JSON.parse(published(name)));
  const paths = [];
  if (!type.isValid(example(name), { errorHook: (path) => paths.push(path.join('.')) })) {
    throw new Error(`examples/${name}.json does not match ${name}.avsc at ${paths.join(', ')}`);
  }
}
log('published schemas parsed alone; examples valid: CaptionRequest, CaptionEvent, FailureEvent');

// 2. Register the request schema under the request topic's subject (TopicNameStrategy).
const registry = new SchemaRegistry({ host: config.registry });
const subject = `${config.topics.requests}-value`;
const { id } = await registry.register(
  { type: SchemaType.AVRO, schema: published('CaptionRequest') },
  { subject, compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE });
log(`registered ${subject} as schema id ${id}`);

// 3. Requests: one per image, one without requested_at, and three that must fail.
const run = config.run;
const template = example('CaptionRequest');
const request = (requestId, fields) => ({
  ...template,
  request_id: requestId,
  ids: { ...template.ids, correlation: { client: 'kafkajs', run } },
  requested_at: Date.now(),
  ...fields,
});
const requests = config.images.map((image, i) =>
  request(`${run}-${i}`, { image_uri: image.uri, expected_sha256: image.sha256 }));
requests.push(request(`${run}-no-requested-at`,
  { image_uri: config.images[0].uri, expected_sha256: config.images[0].sha256, requested_at: null }));
requests.push(request(`${run}-missing`, { image_uri: config.missingUri, expected_sha256: null }));
requests.push(request(`${run}-bad-digest`, { image_uri: config.images[0].uri, expected_sha256: 'not-a-digest' }));
const expectedFailures = {
  [`${run}-missing`]: 'OBJECT_MISSING',
  [`${run}-bad-digest`]: 'INVALID_REQUEST',
  [`${run}-garbage`]: 'UNDESERIALIZABLE_RECORD',
};

const kafka = new Kafka({ clientId: 'dermcap-outside-client', brokers: config.brokers, logLevel: logLevel.WARN });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
const messages = [];
for (const r of requests) {
  messages.push({ key: r.request_id, value: await registry.encode(id, r) });
}
// not framed by a registry serializer: dermcap must answer with a typed failure, not drop it
messages.push({ key: `${run}-garbage`, value: Buffer.from('{"request_id":"not avro"}') });
await producer.send({ topic: config.topics.requests, messages, acks: -1 });
await producer.disconnect();
log(`produced ${messages.length} records (${requests.length} requests encoded with schema id ${id}, 1 not Avro)`);

// 4. Read the outcomes, decoding with the published schemas as readers.
const readers = {
  [config.topics.captions]: { [SchemaType.AVRO]: { readerSchema: JSON.parse(published('CaptionEvent')) } },
  [config.topics.failures]: { [SchemaType.AVRO]: { readerSchema: JSON.parse(published('FailureEvent')) } },
};
const expected = new Set([...requests.map((r) => r.request_id), `${run}-garbage`]);
const outcomes = new Map(); // key -> [{ topic, event }]
let first = { caption: null, failure: null };
const consumer = kafka.consumer({ groupId: `dermcap-outside-client-${run}` });
await consumer.connect();
await consumer.subscribe({ topics: [config.topics.captions, config.topics.failures], fromBeginning: true });
const done = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(
    `timed out: ${outcomes.size} of ${expected.size} requests have an outcome`)), config.timeoutMs);
  consumer.run({
    eachMessage: async ({ topic, message }) => {
      const key = message.key.toString('utf8');
      if (!expected.has(key)) {
        return;
      }
      const event = await registry.decode(message.value, readers[topic]);
      const kind = topic === config.topics.captions ? 'caption' : 'failure';
      outcomes.set(key, [...(outcomes.get(key) ?? []), { kind, event }]);
      first[kind] ??= event;
      if ([...expected].every((k) => outcomes.has(k))) {
        clearTimeout(timer);
        resolve();
      }
    },
  }).catch(reject);
});
await done;
await consumer.disconnect();

// 5. Check and count.
const problems = [];
const codes = {};
let captions = 0;
let failures = 0;
const sources = {};
for (const [key, list] of outcomes) {
  if (list.length !== 1) {
    problems.push(`${key}: ${list.length} outcomes`);
  }
  const { kind, event } = list[0];
  if (kind === 'caption') {
    captions++;
    if (!event.bundle || !/^[0-9a-f]{64}$/.test(event.bundle.manifest_sha256)) {
      problems.push(`${key}: caption without the bundle's manifest sha256`);
    }
    if (event.timings.batch === null || event.timings.batch.size !== event.runtime.batch_size) {
      problems.push(`${key}: caption without its batch timings`);
    }
    sources[event.requested_at_source] = (sources[event.requested_at_source] ?? 0) + 1;
    if (key in expectedFailures) {
      problems.push(`${key}: captioned, expected ${expectedFailures[key]}`);
    }
  } else {
    failures++;
    codes[event.code] = (codes[event.code] ?? 0) + 1;
    if (expectedFailures[key] !== event.code) {
      problems.push(`${key}: ${event.code} (${event.message}), expected ${expectedFailures[key] ?? 'a caption'}`);
    }
    if (!event.bundle || !event.bundle.manifest_sha256) {
      problems.push(`${key}: failure without the bundle's manifest sha256`);
    }
  }
}
const noRequestedAt = outcomes.get(`${run}-no-requested-at`)?.[0]?.event;
if (noRequestedAt?.requested_at_source !== 'RECORD_TIMESTAMP') {
  problems.push(`${run}-no-requested-at: requested_at_source is ${noRequestedAt?.requested_at_source}`);
}

// full events for the docs (bytes as base64, as a JSON reader would want them)
const json = (event) => JSON.stringify(event, (k, v) =>
  v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v, 2);
if (config.outDir) {
  writeFileSync(join(config.outDir, 'caption.json'), json(first.caption) + '\n');
  writeFileSync(join(config.outDir, 'failure.json'),
    json(outcomes.get(`${run}-missing`)?.[0]?.event ?? first.failure) + '\n');
}
const summary = {
  schemaId: id, records: messages.length, outcomes: outcomes.size, captions, failures, codes,
  requestedAtSources: sources, problems,
};
log(`decoded ${captions} captions and ${failures} failures for ${messages.length} records: ` +
  `${Object.entries(codes).map(([c, n]) => `${n} ${c}`).join(', ')}; requested_at from ` +
  `${Object.entries(sources).map(([s, n]) => `${s} ${n}`).join(', ')}; ${problems.length} problems`);
problems.forEach((p) => log('problem:', p));
console.log('OUTSIDE-CLIENT-SUMMARY ' + JSON.stringify(summary));
process.exit(problems.length === 0 ? 0 : 1);
