package io.dermcap.it.faults;

import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An Error while the engine loads (here injected: ONNX Runtime's native library cannot load)
 * ends the process with a non-zero status, so a supervisor restarts or reports it. Regression:
 * the operations server's threads used to keep that JVM alive forever, live but never ready.
 */
class StartupFailureIT {

    @Test
    void anErrorWhileStartingEndsTheProcess() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            ChildService child = s.startChild("startup", Map.of(),
                    new ChildService.Launch(List.of("-D" + FaultInjectingMain.FAULT + "=startup-error"),
                            FaultInjectingMain.class.getName()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (child.alive() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(child.alive()).as("the process ended within 120 s:\n" + child.tail()).isFalse();
            assertThat(child.exitValue()).isNotZero();
            assertThat(Files.readString(child.log())).contains("UnsatisfiedLinkError").contains("event=stopped");
        }
    }
}
