// KpGroupConsume - the Java consumer (kafka-clients) as one member of a consumer group.
//
// usage: KpGroupConsume BOOTSTRAP TOPIC GROUP [-X KEY=VALUE]...
//
// Subscribes to TOPIC in GROUP and polls until its standard input reaches end of
// file; then closes the consumer (which commits what it consumed and leaves the
// group) and exits 0. Defaults, which -X overrides: auto.offset.reset=earliest,
// enable.auto.commit=true with auto.commit.interval.ms=200; the group protocol is
// the client's default (classic) unless -X group.protocol=consumer (KIP-848).
//
// Prints "A P,P,..." with the member's whole assignment (partitions of TOPIC) each
// time it changes, and "M PARTITION OFFSET" a record. Exits 1 on a failure with
// the exception on stderr (Rec.die), 2 on bad usage.
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

public final class KpGroupConsume {
    public static void main(String[] argv) throws Exception {
        Properties props = new Properties();
        String[] args = Rec.props(argv, props, null);
        if (args.length != 3)
            Rec.usage("usage: KpGroupConsume BOOTSTRAP TOPIC GROUP [-X KEY=VALUE]...");
        String topic = args[1];

        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.setProperty(ConsumerConfig.GROUP_ID_CONFIG, args[2]);
        p.setProperty(ConsumerConfig.CLIENT_ID_CONFIG, "kpipe-java-group");
        p.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        p.setProperty(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "200");
        p.putAll(props);

        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        AtomicBoolean stop = new AtomicBoolean();
        Thread eof = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                }
            } catch (IOException e) {
                // end of input all the same
            }
            stop.set(true);
        });
        eof.setDaemon(true);
        eof.start();

        KafkaConsumer<byte[], byte[]> consumer = null;
        try {
            consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            TreeSet<Integer> current = new TreeSet<>();
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                // Eager (classic range) revokes everything and assigns the whole new set;
                // cooperative and KIP-848 assignments come as increments: keep the sum.
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                    for (TopicPartition tp : parts)
                        current.remove(tp.partition());
                    report(out, current);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                    for (TopicPartition tp : parts)
                        current.add(tp.partition());
                    report(out, current);
                }
            });
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.write("M " + r.partition() + " " + r.offset());
                    out.write('\n');
                }
                out.flush();
            }
            consumer.close(Duration.ofSeconds(30));
        } catch (Exception ex) {
            out.flush();
            Rec.die("group consume", ex);
        }
        out.flush();
    }

    private static void report(BufferedWriter out, TreeSet<Integer> parts) {
        StringJoiner j = new StringJoiner(",");
        for (int part : parts)
            j.add(Integer.toString(part));
        try {
            out.write("A " + j);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
