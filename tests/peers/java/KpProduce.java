// KpProduce - the Java producer (kafka-clients) writing records read from stdin.
//
// usage: KpProduce BOOTSTRAP TOPIC [--codecs C1,C2,...] [--stream true] [-X KEY=VALUE]...
//
// Reads Rec JSON lines (key, value, headers, optional partition) from stdin and
// sends them all asynchronously, then flushes. With --codecs the input is
// split into that many consecutive runs, each sent by its own producer with
// compression.type set to that codec (none, gzip, snappy, lz4, zstd). Prints
// one line per input record, in input order: {"p": PARTITION, "o": OFFSET, "t": TIMESTAMP}.
// Exits 1 on the first failed send.
//
// --stream true: one producer (compression.type the one codec of --codecs) sends each
// record as soon as its line is read, and prints each delivery report as it comes, in the
// order the producer reports them, flushed at once: {"i": INDEX, "p", "o", "t"} or
// {"i": INDEX, "error": "CLASS: MESSAGE (caused by ...)"}, INDEX counting the input records
// from 0. At end of input it flushes and closes the producer; exits 1 if any send failed.
//
// Defaults: acks=all, linger.ms=5, enable.idempotence=false (-X overrides any).
import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.producer.Callback;
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
import java.util.concurrent.atomic.AtomicInteger;

public final class KpProduce {
    public static void main(String[] argv) throws Exception {
        Properties props = new Properties();
        Map<String, String> flags = Rec.flags();
        String[] args = Rec.props(argv, props, flags);
        if (args.length != 2)
            Rec.usage("usage: KpProduce BOOTSTRAP TOPIC [--codecs C1,C2,...] [--stream true] [-X KEY=VALUE]...");
        String topic = args[1];
        String[] codecs = flags.getOrDefault("codecs", "none").split(",");
        if (Boolean.parseBoolean(flags.getOrDefault("stream", "false"))) {
            if (codecs.length != 1)
                Rec.usage("KpProduce: --stream takes one codec");
            stream(args[0], topic, codecs[0], props);
            return;
        }

        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty())
                continue;
            records.add(record(topic, line));
        }

        List<Future<RecordMetadata>> sent = new ArrayList<>();
        int per = (records.size() + codecs.length - 1) / Math.max(1, codecs.length);
        for (int c = 0; c < codecs.length; c++) {
            Properties p = config(args[0], codecs[c], props);
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

    /** The producer's configuration: our defaults, then -X, then the codec. */
    static Properties config(String bootstrap, String codec, Properties props) {
        Properties p = new Properties();
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
        p.setProperty(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.setProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.putAll(props);
        p.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        return p;
    }

    /** The record of one Rec input line. */
    static ProducerRecord<byte[], byte[]> record(String topic, String line) throws Exception {
        JsonNode n = Rec.JSON.readTree(line);
        Integer part = n.hasNonNull("p") ? n.get("p").asInt() : null;
        List<org.apache.kafka.common.header.Header> headers = new ArrayList<>();
        if (n.has("h"))
            for (JsonNode h : n.get("h"))
                headers.add(new RecordHeader(h.get(0).asText(), Rec.bytes(h.get(1))));
        return new ProducerRecord<>(topic, part, null, Rec.bytes(n.get("k")), Rec.bytes(n.get("v")), headers);
    }

    /** "CLASS: MESSAGE", then " (caused by CLASS: MESSAGE)" for each cause. */
    static String describe(Throwable e) {
        StringBuilder s = new StringBuilder(e.getClass().getName() + ": " + e.getMessage());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause())
            s.append(" (caused by ").append(c.getClass().getName()).append(": ")
                .append(c.getMessage()).append(')');
        return s.toString();
    }

    /** One delivery report line on stdout, flushed (called from the producer's I/O thread). */
    static synchronized void report(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** --stream: send each record as its line arrives, report each delivery as it comes. */
    static void stream(String bootstrap, String topic, String codec, Properties props) throws Exception {
        AtomicInteger failed = new AtomicInteger();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (KafkaProducer<byte[], byte[]> producer =
                 new KafkaProducer<>(config(bootstrap, codec, props), new ByteArraySerializer(),
                                     new ByteArraySerializer())) {
            int i = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isEmpty())
                    continue;
                final int index = i++;
                Callback done = (m, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        report(Rec.line(Rec.object().put("i", index).put("error", describe(e))));
                    } else {
                        report(Rec.line(Rec.object().put("i", index).put("p", m.partition())
                            .put("o", m.offset()).put("t", m.timestamp())));
                    }
                };
                try {
                    producer.send(record(topic, line), done);
                } catch (Exception e) {
                    // send() itself throws for some failures instead of calling back
                    done.onCompletion(null, e);
                }
            }
            producer.flush();
        } catch (Exception e) {
            Rec.die("send", e);
        }
        if (failed.get() > 0) {
            System.out.flush();
            System.err.println("send: " + failed.get() + " records failed");
            System.exit(1);
        }
    }
}
