package io.dermcap.model.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The decoder's past keys and values, owned here instead of by ONNX Runtime: two buffers per
 * cache tensor, one holding the past of the next call and one receiving its present, swapped after
 * every call so the present is fed back without a copy. A tensor {@code [rows, heads, length,
 * headDim]} sits contiguously from the start of its buffer, so a row is one block of
 * {@code heads × length × headDim} floats: rows are rearranged with block copies, in place.
 */
final class KvCache {

    private final int tensors;
    private final int rowFloatsPerPosition;
    private ByteBuffer[] current;
    private ByteBuffer[] spare;
    private ByteBuffer stash;
    private int rowCapacity;
    private int lengthCapacity;

    /** Row count and sequence length of the tensors in {@link #current}. */
    private int rows;
    private int length;

    KvCache(int tensors, int heads, int headDim) {
        this.tensors = tensors;
        this.rowFloatsPerPosition = heads * headDim;
        this.current = new ByteBuffer[tensors];
        this.spare = new ByteBuffer[tensors];
    }

    /** Makes room for {@code rows × length}; keeps the buffers when they are big enough. */
    void reserve(int rows, int length) {
        if (rows <= rowCapacity && length <= lengthCapacity) {
            return;
        }
        rowCapacity = Math.max(rows, rowCapacity);
        lengthCapacity = Math.max(length, lengthCapacity);
        long bytes = 4L * rowCapacity * lengthCapacity * rowFloatsPerPosition;
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a cache tensor of " + rowCapacity + " rows × " + lengthCapacity
                    + " positions needs " + bytes + " bytes, over 2 GiB");
        }
        for (int t = 0; t < tensors; t++) {
            current[t] = null;
            spare[t] = null;
        }
        for (int t = 0; t < tensors; t++) {
            current[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            spare[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        }
        stash = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        this.rows = 0;
        this.length = 0;
    }

    int rows() {
        return rows;
    }

    int length() {
        return length;
    }

    /** The past of tensor {@code t}: {@code rows × length} positions of the current buffer. */
    FloatBuffer past(int t) {
        return floats(current[t], (long) rows * length);
    }

    /** Where tensor {@code t}'s present of {@code rows × (length + added)} goes. */
    FloatBuffer present(int t, int presentRows, int presentLength) {
        check(presentRows, presentLength);
        return floats(spare[t], (long) presentRows * presentLength);
    }

    /** After a run: the presents become the past. */
    void advance(int newRows, int newLength) {
        ByteBuffer[] t = current;
        current = spare;
        spare = t;
        rows = newRows;
        length = newLength;
    }

    /**
     * New row {@code i} = old row {@code source[i]}, in place: a source row that a copy would
     * overwrite before its last use is first stashed. Rows that keep their place are not touched.
     */
    void select(int[] source) {
        int n = source.length;
        check(n, length);
        int block = 4 * length * rowFloatsPerPosition;
        boolean[] overwritten = new boolean[Math.max(n, rows)];
        for (int i = 0; i < n; i++) {
            if (source[i] < 0 || source[i] >= rows) {
                throw new IllegalArgumentException("row " + source[i] + " does not exist (" + rows + " rows)");
            }
            overwritten[i] = source[i] != i;
        }
        int[] stashSlot = new int[rows];
        java.util.Arrays.fill(stashSlot, -1);
        int stashed = 0;
        for (int i = 0; i < n; i++) {
            int s = source[i];
            if (s != i && s < n && overwritten[s] && stashSlot[s] < 0) {
                stashSlot[s] = stashed++;
            }
        }
        for (int t = 0; t < tensors; t++) {
            ByteBuffer buf = current[t];
            for (int s = 0; s < rows; s++) {
                if (stashSlot[s] >= 0) {
                    stash.put(stashSlot[s] * block, buf, s * block, block);
                }
            }
            for (int i = 0; i < n; i++) {
                int s = source[i];
                if (s == i) {
                    continue;
                }
                if (stashSlot[s] >= 0) {
                    buf.put(i * block, stash, stashSlot[s] * block, block);
                } else {
                    buf.put(i * block, buf, s * block, block);
                }
            }
        }
        rows = n;
    }

    private void check(int r, int len) {
        if (r > rowCapacity || len > lengthCapacity) {
            throw new IllegalStateException(r + " rows × " + len + " positions exceed the reserved "
                    + rowCapacity + " × " + lengthCapacity);
        }
    }

    private FloatBuffer floats(ByteBuffer buffer, long positions) {
        int n = (int) (positions * rowFloatsPerPosition);
        return buffer.duplicate().order(ByteOrder.nativeOrder()).position(0).limit(4 * n).slice()
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
