// KpAdmin - the Java Admin client (kafka-clients) running a sequence of operations.
//
// usage: KpAdmin BOOTSTRAP OP... [-X KEY=VALUE]...
//   create NAME PARTITIONS   createTopics (replication factor 1)
//   list                     listTopics
//   describe NAME            describeTopics
//   offsets NAME             listOffsets earliest and latest of every partition
//   cluster                  describeCluster
//
// One JSON line an operation, in order, with "op" and either the result or
// "error": "EXCEPTION CLASS: MESSAGE" (a failed operation does not stop the
// others). Exits 0 unless the arguments are bad.
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

public final class KpAdmin {
    public static void main(String[] argv) throws Exception {
        Properties props = new Properties();
        String[] args = Rec.props(argv, props, null);
        if (args.length < 2)
            Rec.usage("usage: KpAdmin BOOTSTRAP OP... (create NAME PARTITIONS | list | describe NAME | offsets NAME | cluster)");
        Properties p = new Properties();
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.putAll(props);
        try (Admin admin = Admin.create(p)) {
            for (int i = 1; i < args.length; i++) {
                String op = args[i];
                ObjectNode out = Rec.object().put("op", op);
                try {
                    switch (op) {
                        case "create": {
                            String name = arg(args, ++i);
                            int parts = Integer.parseInt(arg(args, ++i));
                            out.put("topic", name);
                            admin.createTopics(List.of(new NewTopic(name, parts, (short) 1))).all().get(30, TimeUnit.SECONDS);
                            break;
                        }
                        case "list": {
                            ArrayNode a = out.putArray("topics");
                            for (String t : new TreeSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS)))
                                a.add(t);
                            break;
                        }
                        case "describe": {
                            String name = arg(args, ++i);
                            out.put("topic", name);
                            TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames()
                                .get(30, TimeUnit.SECONDS).get(name);
                            out.put("name", d.name()).put("internal", d.isInternal())
                               .put("id", d.topicId() == null ? null : d.topicId().toString());
                            ArrayNode ps = out.putArray("partitions");
                            for (TopicPartitionInfo pi : d.partitions()) {
                                ObjectNode o = ps.addObject().put("p", pi.partition())
                                    .put("leader", pi.leader() == null ? -1 : pi.leader().id());
                                ArrayNode r = o.putArray("replicas");
                                for (Node n : pi.replicas())
                                    r.add(n.id());
                                ArrayNode isr = o.putArray("isr");
                                for (Node n : pi.isr())
                                    isr.add(n.id());
                            }
                            break;
                        }
                        case "offsets": {
                            String name = arg(args, ++i);
                            out.put("topic", name);
                            int n = admin.describeTopics(List.of(name)).allTopicNames()
                                .get(30, TimeUnit.SECONDS).get(name).partitions().size();
                            ObjectNode e = out.putObject("earliest");
                            ObjectNode l = out.putObject("latest");
                            for (int k = 0; k < 2; k++) {
                                Map<TopicPartition, OffsetSpec> q = new HashMap<>();
                                for (int part = 0; part < n; part++)
                                    q.put(new TopicPartition(name, part), k == 0 ? OffsetSpec.earliest() : OffsetSpec.latest());
                                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r =
                                    admin.listOffsets(q).all().get(30, TimeUnit.SECONDS);
                                for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> en : r.entrySet())
                                    (k == 0 ? e : l).put(Integer.toString(en.getKey().partition()), en.getValue().offset());
                            }
                            break;
                        }
                        case "cluster": {
                            DescribeClusterResult c = admin.describeCluster();
                            out.put("id", c.clusterId().get(30, TimeUnit.SECONDS));
                            Node ctl = c.controller().get(30, TimeUnit.SECONDS);
                            out.put("controller", ctl == null ? -1 : ctl.id());
                            ArrayNode ns = out.putArray("nodes");
                            for (Node n : c.nodes().get(30, TimeUnit.SECONDS))
                                ns.addObject().put("id", n.id()).put("host", n.host()).put("port", n.port());
                            break;
                        }
                        default:
                            Rec.usage("KpAdmin: unknown operation " + op);
                    }
                } catch (ExecutionException e) {
                    Throwable c = e.getCause() == null ? e : e.getCause();
                    out.put("error", c.getClass().getName() + ": " + c.getMessage());
                } catch (java.util.concurrent.TimeoutException e) {
                    out.put("error", "timeout: " + e.getMessage());
                }
                System.out.println(Rec.line(out));
                System.out.flush();
            }
        }
    }

    private static String arg(String[] args, int i) {
        if (i >= args.length)
            Rec.usage("KpAdmin: " + args[i - 1] + " wants an argument");
        return args[i];
    }
}
