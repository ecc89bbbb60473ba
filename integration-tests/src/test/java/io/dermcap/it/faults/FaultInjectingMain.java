package io.dermcap.it.faults;

import io.dermcap.config.Config;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.ModelInfo;
import io.dermcap.service.CaptionService;

import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@code dermcap run} for fault tests, on the test classpath only: the service wired exactly as
 * by the production command, except that the engine is wrapped by the fault named by the system
 * property {@value #FAULT}:
 * <ul>
 * <li>{@code model-error}: a model run fails (a {@link ModelException}, as ONNX Runtime's errors
 * arrive) for every batch that holds a request whose prompt is {@link #MARKER_PROMPT};</li>
 * <li>{@code engine-dies}: the model run of that batch throws an {@link OutOfMemoryError} instead,
 * which ends the engine's thread;</li>
 * <li>{@code startup-error}: loading the engine ends in an {@link Error}, as when ONNX Runtime's
 * native library cannot load.</li>
 * </ul>
 * Production code has no fault switch: this decorator is the only injection point.
 */
public final class FaultInjectingMain {

    static final String FAULT = "dermcap.fault";
    static final String MARKER_PROMPT = "dermcap fault injection: fail the batch that holds this request";

    private FaultInjectingMain() {
    }

    /** Called like the production main: {@code run --config FILE}. */
    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !args[0].equals("run") || !args[1].equals("--config")) {
            throw new IllegalArgumentException("usage: run --config FILE");
        }
        String fault = System.getProperty(FAULT, "");
        UnaryOperator<Captioner> decorator = switch (fault) {
            case "model-error" -> engine -> new FailingBatches(engine, false);
            case "engine-dies" -> engine -> new FailingBatches(engine, true);
            case "startup-error" -> engine -> {
                throw new UnsatisfiedLinkError("injected: the engine's native library cannot be loaded");
            };
            default -> throw new IllegalArgumentException("-D" + FAULT + " must be model-error, engine-dies or startup-error, not '"
                    + fault + "'");
        };
        CaptionService service = CaptionService.start(Config.load(Path.of(args[2]), System.getenv()), decorator);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "dermcap-sigterm"));
        System.exit(service.awaitStop());
    }

    /** The engine, except that a batch holding the marker request fails as a whole. */
    static final class FailingBatches implements Captioner {
        private final Captioner engine;
        private final boolean fatal;

        FailingBatches(Captioner engine, boolean fatal) {
            this.engine = engine;
            this.fatal = fatal;
        }

        @Override
        public ModelInfo info() {
            return engine.info();
        }

        @Override
        public GenerationSettings settingsFor(Overrides overrides) throws InvalidSettingsException {
            return engine.settingsFor(overrides);
        }

        @Override
        public List<Caption> caption(List<Request> batch) throws ModelException {
            if (batch.stream().anyMatch(r -> MARKER_PROMPT.equals(r.settings().prompt()))) {
                if (fatal) {
                    throw new OutOfMemoryError("injected fault: the model run ran out of memory");
                }
                throw new ModelException("injected fault: onnxruntime failed on this batch");
            }
            return engine.caption(batch);
        }

        @Override
        public void close() {
            engine.close();
        }
    }
}
