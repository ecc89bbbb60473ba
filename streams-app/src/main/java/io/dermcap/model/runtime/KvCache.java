package io.dermcap.model.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder's past keys and values, owned here instead of by ONNX Runtime: two buffers per
 * cache tensor, one holding the past of the next call and one receiving its present, swapped after
 * every call so the present is fed back without a copy. A tensor {@code [rows, heads, length,
 * headDim]} sits contiguously from the start of its buffer, so a row is one block of
 * {@code heads × length × headDim} floats: rows are rearranged with block copies, in place.
 * Buffers are kept between batches and grow when a batch needs more rows or positions.
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
        release();
        for (int t = 0; t < tensors; t++) {
            current[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            spare[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        }
        stash = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        this.rows = 0;
        this.length = 0;
    }

    /** Frees the buffers now (they are gigabytes for the full model). */
    void release() {
        for (int t = 0; t < tensors; t++) {
            DirectMemory.free(current[t]);
            DirectMemory.free(spare[t]);
            current[t] = null;
            spare[t] = null;
        }
        DirectMemory.free(stash);
        stash = null;
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
     * New row {@code i} = old row {@code source[i]}, in place, as a "parallel move": a row is
     * overwritten only once no pending copy still reads it, so each moved row costs one block copy
     * per tensor; only a cycle of rows (beams swapping places) goes through the stash. Rows that
     * keep their place are not touched.
     */
    void select(int[] source) {
        int n = source.length;
        check(n, length);
        for (int s : source) {
            if (s < 0 || s >= rows) {
                throw new IllegalArgumentException("row " + s + " does not exist (" + rows + " rows)");
            }
        }
        int block = 4 * length * rowFloatsPerPosition;
        List<Copy> plan = plan(source, rows);
        // tensor by tensor: the stash holds one tensor's rows at a time
        for (int t = 0; t < tensors; t++) {
            ByteBuffer buf = current[t];
            for (Copy c : plan) {
                switch (c.kind()) {
                    case ROW_TO_ROW -> buf.put(c.to() * block, buf, c.from() * block, block);
                    case ROW_TO_STASH -> stash.put(c.to() * block, buf, c.from() * block, block);
                    case STASH_TO_ROW -> buf.put(c.to() * block, stash, c.from() * block, block);
                }
            }
        }
        rows = n;
    }

    enum Kind { ROW_TO_ROW, ROW_TO_STASH, STASH_TO_ROW }

    /** One block copy; a stash slot has the number of the row stashed in it. */
    record Copy(Kind kind, int from, int to) {
    }

    /** The block copies, in order, that realise {@code source} in place (see {@link #select}). */
    static List<Copy> plan(int[] source, int oldRows) {
        int n = source.length;
        int[] readers = new int[Math.max(n, oldRows)];
        boolean[] pending = new boolean[n];
        boolean[] stashed = new boolean[Math.max(n, oldRows)];
        int left = 0;
        for (int i = 0; i < n; i++) {
            if (source[i] != i) {
                pending[i] = true;
                readers[source[i]]++;
                left++;
            }
        }
        List<Copy> copies = new ArrayList<>();
        while (left > 0) {
            boolean progress = false;
            for (int i = 0; i < n; i++) {
                if (pending[i] && readers[i] == 0) {
                    int s = source[i];
                    if (stashed[s]) {
                        copies.add(new Copy(Kind.STASH_TO_ROW, s, i));
                    } else {
                        copies.add(new Copy(Kind.ROW_TO_ROW, s, i));
                        readers[s]--;
                    }
                    pending[i] = false;
                    left--;
                    progress = true;
                }
            }
            if (!progress) {
                // every pending row is still read by another pending copy (a cycle): stash one
                int i = 0;
                while (!pending[i]) {
                    i++;
                }
                copies.add(new Copy(Kind.ROW_TO_STASH, i, i));
                stashed[i] = true;
                readers[i] = 0;
            }
        }
        return copies;
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
