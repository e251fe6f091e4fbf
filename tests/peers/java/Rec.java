// Rec - the JSON-lines record format shared by the test programs (Java, Go, Python).
//
// One JSON object a line. Keys, values and header values are byte strings
// written as JSON strings of ISO-8859-1 characters (one character a byte:
// "\u00ff" is the byte 0xff), so binary data survives and ASCII stays
// readable; null is a null key, value or header value. Header keys are
// ordinary (UTF-8) strings.
//
//   input of KpProduce:   {"k": KEY, "v": VALUE, "h": [[HKEY, HVALUE], ...], "p": PARTITION?}
//   output of KpConsume:  {"p": PARTITION, "o": OFFSET, "t": TIMESTAMP_MS, "k": ..., "v": ..., "h": [...]}
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

final class Rec {
    static final ObjectMapper JSON = new ObjectMapper();

    private Rec() {
    }

    /** Bytes from a JSON string of ISO-8859-1 characters (null for JSON null or a missing field). */
    static byte[] bytes(JsonNode n) {
        if (n == null || n.isNull())
            return null;
        String s = n.asText();
        for (int i = 0; i < s.length(); i++)
            if (s.charAt(i) > 0xff)
                throw new IllegalArgumentException("character above U+00FF in a byte string");
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The JSON string (or null) standing for bytes b. */
    static String latin1(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.ISO_8859_1);
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    static ArrayNode array() {
        return JSON.createArrayNode();
    }

    static String line(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** -X KEY=VALUE options from args (collected into props); the other arguments are returned. */
    static String[] props(String[] args, Properties props, Map<String, String> flags) {
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-X") && i + 1 < args.length) {
                String kv = args[++i];
                int eq = kv.indexOf('=');
                if (eq <= 0)
                    usage("-X wants KEY=VALUE, not " + kv);
                props.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (a.startsWith("--") && flags != null && i + 1 < args.length) {
                flags.put(a.substring(2), args[++i]);
            } else {
                rest.add(a);
            }
        }
        return rest.toArray(new String[0]);
    }

    static Map<String, String> flags() {
        return new HashMap<>();
    }

    static void usage(String msg) {
        System.err.println(msg);
        System.exit(2);
    }

    /** Exit 1 with the exception's class and message on stderr. */
    static void die(String what, Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && (c instanceof java.util.concurrent.ExecutionException
                || c instanceof org.apache.kafka.common.KafkaException && c.getCause() instanceof org.apache.kafka.common.KafkaException))
            c = c.getCause();
        System.out.flush();
        System.err.println(what + ": " + c.getClass().getName() + ": " + c.getMessage());
        System.exit(1);
    }
}
