// KpProduce - the Java producer (kafka-clients) writing records read from stdin.
//
// usage: KpProduce BOOTSTRAP TOPIC [--codecs C1,C2,...] [-X KEY=VALUE]...
//
// Reads Rec JSON lines (key, value, headers, optional partition) from stdin and
// sends them all asynchronously, then flushes. With --codecs the input is
// split into that many consecutive runs, each sent by its own producer with
// compression.type set to that codec (none, gzip, snappy, lz4, zstd). Prints
// one line per input record, in input order: {"p": PARTITION, "o": OFFSET, "t": TIMESTAMP}.
// Exits 1 on the first failed send.
//
// Defaults: acks=all, linger.ms=5, enable.idempotence=false (-X overrides any).
import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

public final class KpProduce {
    public static void main(String[] argv) throws Exception {
        Properties props = new Properties();
        Map<String, String> flags = Rec.flags();
        String[] args = Rec.props(argv, props, flags);
        if (args.length != 2)
            Rec.usage("usage: KpProduce BOOTSTRAP TOPIC [--codecs C1,C2,...] [-X KEY=VALUE]...");
        String topic = args[1];
        String[] codecs = flags.getOrDefault("codecs", "none").split(",");

        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty())
                continue;
            JsonNode n = Rec.JSON.readTree(line);
            Integer part = n.hasNonNull("p") ? n.get("p").asInt() : null;
            List<org.apache.kafka.common.header.Header> headers = new ArrayList<>();
            if (n.has("h"))
                for (JsonNode h : n.get("h"))
                    headers.add(new RecordHeader(h.get(0).asText(), Rec.bytes(h.get(1))));
            records.add(new ProducerRecord<>(topic, part, null, Rec.bytes(n.get("k")), Rec.bytes(n.get("v")), headers));
        }

        List<Future<RecordMetadata>> sent = new ArrayList<>();
        int per = (records.size() + codecs.length - 1) / Math.max(1, codecs.length);
        for (int c = 0; c < codecs.length; c++) {
            Properties p = new Properties();
            p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
            p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
            p.setProperty(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            p.setProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
            p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            p.putAll(props);
            p.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, codecs[c]);
            try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = c * per; i < Math.min(records.size(), (c + 1) * per); i++)
                    sent.add(producer.send(records.get(i)));
                producer.flush();
            } catch (Exception e) {
                Rec.die("send", e);
            }
        }
        StringBuilder out = new StringBuilder();
        for (Future<RecordMetadata> f : sent) {
            try {
                RecordMetadata m = f.get(60, TimeUnit.SECONDS);
                out.append(Rec.line(Rec.object().put("p", m.partition()).put("o", m.offset())
                    .put("t", m.timestamp()))).append('\n');
            } catch (Exception e) {
                Rec.die("send", e);
            }
        }
        System.out.print(out);
        System.out.flush();
    }
}
