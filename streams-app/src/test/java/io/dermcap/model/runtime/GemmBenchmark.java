package io.dermcap.model.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Not a test: this machine's float32 GEMM rate through ONNX Runtime (MLAS, prepacked weights, the
 * engine's session settings) for the weight shapes of one GPT-2-medium block and its LM head, and
 * the time a decoder call's GEMMs alone take at that rate: the floor under {@code bench}'s
 * "GEMM" column. Each shape is a one-node MatMul graph with its weight as an initializer, written
 * here as ONNX protobuf bytes. Run:
 * {@code java -cp streams-app/target/dermcap.jar streams-app/src/test/java/io/dermcap/model/runtime/GemmBenchmark.java}
 */
final class GemmBenchmark {

    private static final int LAYERS = 24;
    /** {in, out, uses per decoder call}: c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj, then the LM head. */
    private static final int[][] SHAPES = {{1024, 3072, LAYERS}, {1024, 1024, LAYERS}, {1024, 4096, LAYERS},
        {4096, 1024, LAYERS}, {1024, 50257, 1}};
    /** Rows of batch 8, 16 and 32 at 4 beams. (At batch 1 a call is bound by streaming 1.41 GB of weights
     * from memory, which a one-matrix graph kept in cache does not show.) */
    private static final int[] ROWS = {32, 64, 128};
    private static final double FLOP_PER_SHAPE_RUN = 2e10;

    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double[] callMs = new double[ROWS.length];
        for (int[] shape : SHAPES) {
            int k = shape[0];
            int n = shape[1];
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(2);
                so.addConfigEntry("session.intra_op.allow_spinning", "0");
                try (OrtSession session = env.createSession(matMul(k, n), so)) {
                    for (int r = 0; r < ROWS.length; r++) {
                        int m = ROWS[r];
                        double ms = time(env, session, m, k, n);
                        callMs[r] += ms * shape[2];
                        System.out.printf("K=%5d N=%5d M=%3d: %7.2f ms  %5.0f GFLOP/s%n", k, n, m, ms, 2.0 * m * k * n / ms / 1e6);
                    }
                }
            }
        }
        for (int r = 0; r < ROWS.length; r++) {
            System.out.printf("GPT-2 medium decoder call at %3d rows: %6.1f ms of GEMM at these rates%n", ROWS[r], callMs[r]);
        }
    }

    /** Milliseconds per run, the median of five timed groups after a warm-up. */
    private static double time(OrtEnvironment env, OrtSession session, int m, int k, int n) throws Exception {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(random(m * k, 1)), new long[] {m, k})) {
            int reps = Math.max(3, (int) (FLOP_PER_SHAPE_RUN / 5 / (2.0 * m * k * n)));
            double[] groups = new double[5];
            for (int g = -1; g < groups.length; g++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    session.run(Map.of("x", x)).close();
                }
                if (g >= 0) {
                    groups[g] = (System.nanoTime() - t0) / 1e6 / reps;
                }
            }
            Arrays.sort(groups);
            return groups[groups.length / 2];
        }
    }

    private static float[] random(int size, long seed) {
        Random random = new Random(seed);
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) random.nextGaussian() * 0.02f;
        }
        return out;
    }

    /** y[m, n] = x[m, k] · w[k, n], opset 17, w an initializer (so ONNX Runtime prepacks it). */
    private static byte[] matMul(int k, int n) {
        ByteBuffer weights = ByteBuffer.allocate(4 * k * n).order(ByteOrder.LITTLE_ENDIAN);
        weights.asFloatBuffer().put(random(k * n, 2));
        byte[] node = concat(string(1, "x"), string(1, "w"), string(2, "y"), string(4, "MatMul"));
        byte[] w = concat(varint(1, k), varint(1, n), varint(2, 1), string(8, "w"), bytes(9, weights.array()));
        byte[] graph = concat(bytes(1, node), string(2, "gemm"), bytes(5, w),
                bytes(11, valueInfo("x", k)), bytes(12, valueInfo("y", n)));
        return concat(varint(1, 8), bytes(7, graph), bytes(8, concat(string(1, ""), varint(2, 17))));
    }

    /** A float tensor [m, width], m symbolic. */
    private static byte[] valueInfo(String name, int width) {
        byte[] shape = concat(bytes(1, string(2, "m")), bytes(1, varint(1, width)));
        byte[] tensor = concat(varint(1, 1), bytes(2, shape));
        return concat(string(1, name), bytes(2, bytes(1, tensor)));
    }

    private static byte[] varint(int field, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeVarint(out, (long) field << 3);
        writeVarint(out, value);
        return out.toByteArray();
    }

    private static byte[] string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] bytes(int field, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeVarint(out, (long) field << 3 | 2);
        writeVarint(out, value.length);
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
