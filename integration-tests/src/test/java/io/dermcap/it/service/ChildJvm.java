package io.dermcap.it.service;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A JVM started from the test classpath with its stdout and stderr in a file: a service or a broker to kill -9. */
public final class ChildJvm {

    private ChildJvm() {
    }

    /**
     * @param jvmOptions options before the main class (heap, GC, system properties)
     * @param env        added to the environment after every {@code DERMCAP_*} variable is removed
     */
    public static Process start(List<String> jvmOptions, String mainClass, List<String> args, Map<String, String> env,
                                Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("DERMCAP_"));
        pb.environment().putAll(env);
        return pb.start();
    }
}
