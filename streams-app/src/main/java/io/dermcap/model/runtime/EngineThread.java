package io.dermcap.model.runtime;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The one thread that talks to ONNX Runtime: it serialises model runs from any number of callers
 * and gives the native code a large stack. (ONNX Runtime 1.29's initialisation overflowed a
 * default 1 MB Java thread stack, and even a 4 MB one, with a long classpath: the JVM died of
 * SIGSEGV without an error report. 6 MB sufficed; this thread reserves 64 MB of address space,
 * of which only the touched pages cost memory.)
 */
final class EngineThread implements AutoCloseable {

    static final long STACK_BYTES = 64L << 20;

    @FunctionalInterface
    interface Work<T, E extends Exception> {
        T run() throws E;
    }

    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(null, r, "dermcap-engine", STACK_BYTES);
        t.setDaemon(true);
        return t;
    });

    /** Runs {@code work} on the engine thread and waits; its checked exception comes back as is. */
    <T, E extends Exception> T call(Class<E> failure, Work<T, E> work) throws E {
        Callable<T> task = work::run;
        Future<T> future = executor.submit(task);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(false);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the engine", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (failure.isInstance(cause)) {
                throw failure.cast(cause);
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    @Override
    public void close() {
        executor.shutdown();
    }
}
