package io.dermcap.model.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Not a test: a benchmark of the ways to reorder beams in GPT-2 medium's cache at batch 8 ×
 * 4 beams (48 tensors of [32, 16, 129, 64]), for a step where each item's beams become
 * [0, 0, 1, 2] (three row copies per item): whole rows moved inside the shared buffers, only each
 * head's valid positions moved, only the positions where the beams differ (what
 * {@link KvCache#select} does; here the last {@value #DIFFERING} positions), and the least a gather
 * by an index input inside the graph would cost (every row of every tensor copied into a new tensor).
 * Run: {@code java -XX:MaxDirectMemorySize=2g streams-app/src/test/java/io/dermcap/model/runtime/ReorderBenchmark.java}
 */
final class ReorderBenchmark {

    private static final int ROWS = 32;
    private static final int HEADS = 16;
    private static final int CAPACITY = 129;
    private static final int HEAD_DIM = 64;
    private static final int TENSORS = 48;
    private static final int REPEATS = 10;
    private static final int DIFFERING = 4;

    public static void main(String[] args) {
        int headBytes = 4 * CAPACITY * HEAD_DIM;
        int rowBytes = HEADS * headBytes;
        ByteBuffer[] tensors = new ByteBuffer[TENSORS];
        for (int i = 0; i < TENSORS; i++) {
            tensors[i] = ByteBuffer.allocateDirect(ROWS * rowBytes).order(ByteOrder.nativeOrder());
        }
        ByteBuffer gathered = ByteBuffer.allocateDirect(ROWS * rowBytes);
        int[][] copies = new int[24][]; // {from, to}: rows 3 <- 2, 2 <- 1, 1 <- 0 of each item
        for (int item = 0, k = 0; item < 8; item++) {
            for (int j = 3; j >= 1; j--) {
                copies[k++] = new int[] {item * 4 + j - 1, item * 4 + j};
            }
        }
        for (int length : new int[] {70, 100, 128}) {
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                for (int rep = 0; rep < REPEATS; rep++) {
                    for (ByteBuffer b : tensors) {
                        for (int[] c : copies) {
                            b.put(c[1] * rowBytes, b, c[0] * rowBytes, rowBytes);
                        }
                    }
                }
                long t1 = System.nanoTime();
                copyPositions(tensors, copies, 0, length);
                long t2 = System.nanoTime();
                for (int rep = 0; rep < REPEATS; rep++) {
                    for (ByteBuffer b : tensors) {
                        gathered.put(0, b, 0, ROWS * rowBytes);
                    }
                }
                long t3 = System.nanoTime();
                copyPositions(tensors, copies, length - DIFFERING, DIFFERING);
                long t4 = System.nanoTime();
                if (round == 2) {
                    System.out.printf("valid length %d: whole rows %.2f ms/step, valid positions only %.2f ms/step, "
                            + "gather into a new tensor (at least) %.2f ms/step, differing positions only %.2f ms/step%n", length,
                            (t1 - t0) / REPEATS / 1e6, (t2 - t1) / REPEATS / 1e6, (t3 - t2) / REPEATS / 1e6, (t4 - t3) / REPEATS / 1e6);
                }
            }
        }
    }

    /** {@link #REPEATS} times: positions {@code [first, first + count)} of every head, for each {from, to} row copy. */
    private static void copyPositions(ByteBuffer[] tensors, int[][] copies, int first, int count) {
        int headBytes = 4 * CAPACITY * HEAD_DIM;
        int rowBytes = HEADS * headBytes;
        int offset = 4 * first * HEAD_DIM;
        for (int rep = 0; rep < REPEATS; rep++) {
            for (ByteBuffer b : tensors) {
                for (int[] c : copies) {
                    for (int h = 0; h < HEADS; h++) {
                        b.put(c[1] * rowBytes + h * headBytes + offset, b, c[0] * rowBytes + h * headBytes + offset, 4 * count * HEAD_DIM);
                    }
                }
            }
        }
    }
}
