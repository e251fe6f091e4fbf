// KpConsume - the Java consumer (kafka-clients) reading a topic with assign(), no group.
//
// usage: KpConsume BOOTSTRAP TOPIC [--partitions 0,1,...] [--timeout-ms MS] [-X KEY=VALUE]...
//
// Assigns every partition of TOPIC (or the ones named), asks for the beginning
// and end offsets, seeks to the beginning and polls until each position has
// reached its end offset. The first line printed is
// {"starts": {"0": OFFSET, ...}, "ends": {"0": OFFSET, ...}}; then one Rec JSON line
// a record, in the order poll() returned them. Exits 1 if the end is not
// reached within the timeout (default 60 s).
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

public final class KpConsume {
    public static void main(String[] argv) throws Exception {
        Properties props = new Properties();
        Map<String, String> flags = Rec.flags();
        String[] args = Rec.props(argv, props, flags);
        if (args.length != 2)
            Rec.usage("usage: KpConsume BOOTSTRAP TOPIC [--partitions 0,1,...] [--timeout-ms MS] [-X KEY=VALUE]...");
        String topic = args[1];
        long timeoutMs = Long.parseLong(flags.getOrDefault("timeout-ms", "60000"));

        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.setProperty(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.putAll(props);

        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        try (KafkaConsumer<byte[], byte[]> consumer =
                 new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            if (flags.containsKey("partitions")) {
                for (String s : flags.get("partitions").split(","))
                    tps.add(new TopicPartition(topic, Integer.parseInt(s)));
            } else {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
                if (infos == null || infos.isEmpty()) {
                    System.err.println("consume: no partitions for topic " + topic);
                    System.exit(1);
                }
                for (PartitionInfo pi : infos)
                    tps.add(new TopicPartition(topic, pi.partition()));
            }
            consumer.assign(tps);
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            consumer.seekToBeginning(tps);
            ObjectNode meta = Rec.object();
            ObjectNode s = meta.putObject("starts");
            ObjectNode e = meta.putObject("ends");
            for (TopicPartition tp : tps) {
                s.put(Integer.toString(tp.partition()), starts.get(tp));
                e.put(Integer.toString(tp.partition()), ends.get(tp));
            }
            out.write(Rec.line(meta));
            out.write('\n');

            long deadline = System.currentTimeMillis() + timeoutMs;
            while (!done(consumer, tps, ends)) {
                if (System.currentTimeMillis() > deadline) {
                    out.flush();
                    StringBuilder pos = new StringBuilder();
                    for (TopicPartition tp : tps)
                        pos.append(' ').append(tp.partition()).append('@').append(consumer.position(tp))
                           .append('/').append(ends.get(tp));
                    System.err.println("consume: end not reached in " + timeoutMs + " ms:" + pos);
                    System.exit(1);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    ObjectNode n = Rec.object();
                    n.put("p", r.partition()).put("o", r.offset()).put("t", r.timestamp());
                    n.put("k", Rec.latin1(r.key()));
                    n.put("v", Rec.latin1(r.value()));
                    ArrayNode hs = n.putArray("h");
                    for (Header h : r.headers())
                        hs.addArray().add(h.key()).add(Rec.latin1(h.value()));
                    out.write(Rec.line(n));
                    out.write('\n');
                }
            }
        } catch (Exception ex) {
            out.flush();
            Rec.die("consume", ex);
        }
        out.flush();
    }

    private static boolean done(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> tps, Map<TopicPartition, Long> ends) {
        for (TopicPartition tp : tps)
            if (c.position(tp) < ends.get(tp))
                return false;
        return true;
    }
}
