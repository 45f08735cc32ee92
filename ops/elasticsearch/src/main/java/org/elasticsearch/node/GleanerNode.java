/*
 * Gleaner: a single, real Elasticsearch node for local development and tests.
 *
 * This lives in package org.elasticsearch.node on purpose: Node(NodeConstruction),
 * NodeConstruction.prepareConstruction(...) and NodeServiceProvider.newPluginService(...)
 * are package-private. It is the same technique the Elasticsearch test framework's
 * MockNode uses to start a node whose plugins are plain classes on the classpath
 * (instead of bundles under $ES_HOME/modules loaded by the production bootstrap).
 * The classes only share a package name with the server jar; both sit on the
 * application class path (no JPMS), so that is legal.
 *
 * Configuration (system property, else environment variable, else default):
 *   gleaner.es.home      GLEANER_ES_HOME      ./.stack/elasticsearch
 *   gleaner.es.data      GLEANER_ES_DATA      <home>/data
 *   gleaner.es.logs      GLEANER_ES_LOGS      <home>/logs
 *   gleaner.es.host      GLEANER_ES_HOST      127.0.0.1   (HTTP and transport bind/publish host)
 *   gleaner.es.port      GLEANER_ES_PORT      9200        (HTTP)
 *   gleaner.es.transport_port GLEANER_ES_TRANSPORT_PORT 9300-9399
 *   gleaner.es.cluster   GLEANER_ES_CLUSTER   gleaner-local
 *   gleaner.es.node      GLEANER_ES_NODE      gleaner-local-1
 *   gleaner.es.pidfile   GLEANER_ES_PIDFILE   (none) written after start, removed on clean exit
 *   gleaner.es.log_level GLEANER_ES_LOG_LEVEL info
 *   gleaner.es.disk_threshold GLEANER_ES_DISK_THRESHOLD false (cluster.routing.allocation.disk.threshold_enabled)
 *   gleaner.es.zstd_lib  GLEANER_ES_ZSTD_LIB  (auto: the OS libzstd.so.1) used for index.codec=best_compression
 *   gleaner.es.extra_plugins GLEANER_ES_EXTRA_PLUGINS (none) comma-separated Plugin class names that
 *                        are on the classpath, added to the built-in list (experiments only)
 * Any system property gleaner.es.setting.<key>=<value> is passed through as the
 * Elasticsearch node setting <key> (e.g. -Dgleaner.es.setting.indices.query.bool.max_clause_count=2048).
 *
 * The node runs in the foreground until SIGTERM/SIGINT; a shutdown hook closes it cleanly.
 */
package org.elasticsearch.node;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.Metadata;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

public final class GleanerNode extends Node {

    /**
     * Plugins (distribution "modules") loaded into this node. Only classes that are
     * published on Maven Central for this Elasticsearch version can be listed here;
     * see ops/elasticsearch/README.md for what that leaves out.
     */
    static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class, RootEndpointPlugin.class);

    /**
     * {@code GET /} and {@code HEAD /} (node/cluster/version info; what clients call for
     * info() and ping()). In the distribution this comes from the small "rest-root" module
     * (org.elasticsearch.rest.root.MainRestPlugin), which is not published on Maven Central.
     * This handler produces the same JSON body from the running node's real state and build.
     */
    public static final class RootEndpointPlugin extends Plugin implements ActionPlugin {
        private volatile ClusterService clusterService;
        private volatile String nodeName = "";

        public RootEndpointPlugin() {}

        @Override
        public Collection<?> createComponents(PluginServices services) {
            this.clusterService = services.clusterService();
            this.nodeName = services.environment().settings().get("node.name", "");
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(
            RestHandlersServices restHandlersServices,
            Supplier<DiscoveryNodes> nodesInCluster,
            Predicate<NodeFeature> clusterSupportsFeature
        ) {
            return List.of(new BaseRestHandler() {
                @Override
                public String getName() {
                    return "main_action";
                }

                @Override
                public List<Route> routes() {
                    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
                }

                @Override
                public boolean canTripCircuitBreaker() {
                    return false;
                }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    return channel -> {
                        ClusterState state = clusterService.state();
                        Build build = Build.current();
                        XContentBuilder builder = channel.newBuilder();
                        if (request.hasParam("pretty") == false) {
                            builder.prettyPrint().lfAtEnd();
                        }
                        builder.startObject();
                        builder.field("name", nodeName);
                        builder.field("cluster_name", state.getClusterName().value());
                        builder.field(
                            "cluster_uuid",
                            state.metadata().clusterUUIDCommitted() ? state.metadata().clusterUUID() : Metadata.UNKNOWN_CLUSTER_UUID
                        );
                        builder.startObject("version")
                            .field("number", build.qualifiedVersion())
                            .field("build_flavor", build.flavor())
                            .field("build_type", build.type().displayName())
                            .field("build_hash", build.hash())
                            .field("build_date", build.date())
                            .field("build_snapshot", build.isSnapshot())
                            .field("lucene_version", IndexVersion.current().luceneVersion().toString())
                            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                            .endObject();
                        builder.field("tagline", "You Know, for Search");
                        builder.endObject();
                        channel.sendResponse(new RestResponse(RestStatus.OK, builder));
                    };
                }
            });
        }
    }

    private static final String LOG4J2_PROPERTIES = """
        # Generated by GleanerNode on every start; edits are overwritten.
        status = error

        appender.console.type = Console
        appender.console.name = console
        appender.console.layout.type = PatternLayout
        appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n

        rootLogger.level = ${sys:gleaner.es.log_level:-info}
        rootLogger.appenderRef.console.ref = console

        # Deprecation warnings: returned to clients as HTTP "Warning" headers (as in the
        # distribution) and also written to the console log.
        appender.header_warning.type = HeaderWarningAppender
        appender.header_warning.name = header_warning
        logger.deprecation.name = org.elasticsearch.deprecation
        logger.deprecation.level = warn
        logger.deprecation.appenderRef.header_warning.ref = header_warning
        logger.deprecation.appenderRef.console.ref = console
        logger.deprecation.additivity = false
        """;

    private GleanerNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader ignored) {
                // Instantiates the given plugin classes from the classpath (as MockNode does).
                return new MockPluginsService(env.settings(), env, plugins);
            }
        }, true));
    }

    private static String conf(String key, String def) {
        String v = System.getProperty("gleaner.es." + key);
        if (v == null || v.isBlank()) {
            v = System.getenv("GLEANER_ES_" + key.toUpperCase(Locale.ROOT));
        }
        return (v == null || v.isBlank()) ? def : v.trim();
    }

    static Settings nodeSettings(Path home, Path data, Path logs) {
        Settings.Builder b = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("cluster.name", conf("cluster", "gleaner-local"))
            .put("node.name", conf("node", "gleaner-local-1"))
            .put("network.host", conf("host", "127.0.0.1"))
            .put("http.port", conf("port", "9200"))
            .put("transport.port", conf("transport_port", "9300-9399"))
            .put("discovery.type", "single-node")
            // Local dev box: do not refuse shard allocation because the disk is fairly full.
            .put("cluster.routing.allocation.disk.threshold_enabled", conf("disk_threshold", "false"));
        String prefix = "gleaner.es.setting.";
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                b.put(name.substring(prefix.length()), System.getProperty(name));
            }
        }
        return b.build();
    }

    public static void main(String[] args) throws Exception {
        final PrintStream err = System.err; // LogConfigurator redirects System.out/err into log4j
        // Same defaults as the distribution's jvm.options, so that a plain `java -cp ...` works too.
        // log4j must not stop in its own shutdown hook: ours still logs while the node closes.
        setDefaultProperty("log4j.shutdownHookEnabled", "false");
        setDefaultProperty("log4j2.disable.jmx", "true");
        setDefaultProperty("log4j2.formatMsgNoLookups", "true");
        LogConfigurator.registerErrorListener();

        final Path home = Path.of(conf("home", ".stack/elasticsearch")).toAbsolutePath().normalize();
        final Path data = Path.of(conf("data", home.resolve("data").toString())).toAbsolutePath().normalize();
        final Path logs = Path.of(conf("logs", home.resolve("logs").toString())).toAbsolutePath().normalize();
        final Path config = home.resolve("config");
        for (Path dir : List.of(home, data, logs, config, home.resolve("plugins"), home.resolve("modules"))) {
            Files.createDirectories(dir);
        }
        Files.writeString(config.resolve("log4j2.properties"), LOG4J2_PROPERTIES, StandardCharsets.UTF_8);
        // Native libraries are looked up in <es.path.home>/lib/platform/<os>-<arch>/ (as in the distribution).
        if (System.getProperty("es.path.home") == null) {
            System.setProperty("es.path.home", home.toString());
        }
        final String zstdNote = linkSystemZstd(home);
        // libvec (native SIMD vector scoring) ships only inside the distribution; without this the
        // whole native layer (mlockall/rlimit probes, zstd) would be disabled. Lucene's Panama
        // vector code is used instead.
        if (System.getProperty("org.elasticsearch.nativeaccess.enableVectorLibrary") == null) {
            System.setProperty("org.elasticsearch.nativeaccess.enableVectorLibrary", "false");
        }
        System.setProperty("gleaner.es.log_level", conf("log_level", "info"));

        final Settings settings = nodeSettings(home, data, logs);
        final Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings,
            Map.of(),
            config,
            () -> settings.get("node.name")
        );

        LogConfigurator.setClusterName(settings.get("cluster.name"));
        LogConfigurator.setNodeName(settings.get("node.name"));
        LogConfigurator.configure(environment, true);
        final Logger logger = LogManager.getLogger(GleanerNode.class);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> logger.error("uncaught exception in thread [" + t.getName() + "]", e));

        logger.info("{}", zstdNote);
        final List<Class<? extends Plugin>> plugins = new ArrayList<>(PLUGINS);
        for (String name : conf("extra_plugins", "").split(",")) {
            if (name.isBlank() == false) {
                plugins.add(Class.forName(name.trim()).asSubclass(Plugin.class));
            }
        }
        final List<String> pluginNames = new ArrayList<>();
        plugins.forEach(p -> pluginNames.add(p.getSimpleName()));
        logger.info(
            "starting Elasticsearch {} (build {}) home [{}] data [{}] logs [{}] http [{}:{}] plugins {} on Java {}",
            Build.current().version(),
            Build.current().hash(),
            home,
            data,
            logs,
            settings.get("network.host"),
            settings.get("http.port"),
            pluginNames,
            Runtime.version()
        );

        final CountDownLatch stopped = new CountDownLatch(1);
        final Node node;
        try {
            node = new GleanerNode(environment, plugins);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Logger log = LogManager.getLogger(GleanerNode.class);
                log.info("shutdown requested, closing node");
                try {
                    node.prepareForClose();
                    node.close();
                    if (node.awaitClose(30, TimeUnit.SECONDS) == false) {
                        log.warn("node did not close within 30s");
                    } else {
                        log.info("node closed");
                    }
                } catch (Exception e) {
                    log.error("failure while closing node", e);
                } finally {
                    deletePidFile();
                    stopped.countDown();
                    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
                    Configurator.shutdown(ctx);
                }
            }, "gleaner-es-shutdown"));
            node.start();
        } catch (Throwable t) {
            logger.error("Elasticsearch node failed to start", t);
            t.printStackTrace(err);
            err.flush();
            Runtime.getRuntime().halt(1);
            return;
        }
        writePidFile(logger);
        logger.info("node started; HTTP on {}:{}", settings.get("network.host"), settings.get("http.port"));

        stopped.await(); // foreground until SIGTERM / SIGINT
    }

    /**
     * The distribution bundles libzstd (used by index.codec=best_compression) under lib/platform.
     * It is not on Maven Central, so link the operating system's libzstd.so.1 in its place.
     */
    private static String linkSystemZstd(Path home) {
        String arch = System.getProperty("os.arch");
        arch = (arch.equals("amd64") || arch.equals("x86_64")) ? "x64" : arch;
        if (System.getProperty("os.name").startsWith("Linux") == false) {
            return "zstd: not linking a system libzstd on " + System.getProperty("os.name");
        }
        Path dir = home.resolve("lib/platform/linux-" + arch);
        Path target = dir.resolve(System.mapLibraryName("zstd"));
        List<String> candidates = new ArrayList<>();
        String configured = conf("zstd_lib", "");
        if (configured.isEmpty() == false) {
            candidates.add(configured);
        }
        for (String libDir : List.of(
            "/usr/lib/x86_64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/lib64",
            "/usr/lib",
            "/usr/local/lib"
        )) {
            candidates.add(libDir + "/libzstd.so.1");
        }
        for (String c : candidates) {
            Path lib = Path.of(c);
            if (Files.isRegularFile(lib)) {
                try {
                    Files.createDirectories(dir);
                    Files.deleteIfExists(target);
                    Files.createSymbolicLink(target, lib.toRealPath());
                    return "zstd: using system library " + lib.toRealPath() + " (linked at " + target + ")";
                } catch (IOException e) {
                    return "zstd: could not link " + lib + " to " + target + ": " + e;
                }
            }
        }
        return "zstd: no system libzstd.so.1 found (install libzstd1); index.codec=best_compression will not work";
    }

    private static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static void writePidFile(Logger logger) {
        String pidFile = conf("pidfile", "");
        if (pidFile.isEmpty()) {
            return;
        }
        try {
            Path p = Path.of(pidFile);
            if (p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            Files.writeString(p, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            logger.warn("could not write pid file " + pidFile, e);
        }
    }

    private static void deletePidFile() {
        String pidFile = conf("pidfile", "");
        if (pidFile.isEmpty() == false) {
            try {
                Path p = Path.of(pidFile);
                if (Files.exists(p) && Files.readString(p).trim().equals(Long.toString(ProcessHandle.current().pid()))) {
                    Files.delete(p);
                }
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
