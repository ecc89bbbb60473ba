package io.dermcap.model.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder's keys and values, one buffer per cache tensor, owned here and handed to ONNX Runtime
 * as both the past input and the present output, so the decoder's attention writes each new
 * position in place ({@code GroupQueryAttention} with a shared buffer). A tensor is
 * {@code [rows, heads, capacity, headDim]}: row {@code r} keeps its valid positions at
 * {@code [0, length(r))} of every head (right-padded), the rest of its capacity is never read.
 * Beams are rearranged by copying rows inside the same buffers, only the valid positions where
 * the target row differs from its new source: beams of one item share their prefix and most of
 * their tokens, so a reorder usually moves a few positions per row, not the whole row.
 * Buffers are kept between batches and grow when a batch needs more rows or positions. Elements are
 * float32 or float16 (the bundle's cache type): this class moves bytes, it never reads them.
 */
final class KvCache {

    private final int tensors;
    private final int heads;
    private final int headDim;
    private final int elementBytes;
    private ByteBuffer[] buffers;
    private ByteBuffer stash;
    private int rowCapacity;
    private int capacity;

    /** Valid positions per row, for the rows in use. */
    private int[] lengths = new int[0];

    /**
     * Per row and valid position, the id of the write that produced it (prefill or step). Rows only
     * get another row's ids by copying its bytes, and a select hands a row its source's ids in
     * full, so two rows with the same id at a position hold the same bytes there and at every
     * position before it.
     */
    private long[][] writes = new long[0][];
    private long nextWrite;
    private long positionsCopied;

    KvCache(int tensors, int heads, int headDim, int elementBytes) {
        this.tensors = tensors;
        this.heads = heads;
        this.headDim = headDim;
        this.elementBytes = elementBytes;
        this.buffers = new ByteBuffer[tensors];
    }

    boolean fits(int rows, int positions) {
        return rows <= rowCapacity && positions <= capacity;
    }

    /** Makes room for {@code rows × positions}; keeps the buffers when they are big enough. */
    void reserve(int rows, int positions) {
        if (fits(rows, positions)) {
            return;
        }
        int newRows = Math.max(rows, rowCapacity);
        int newCapacity = Math.max(positions, capacity);
        long bytes = bytesPerTensor(newRows, newCapacity, heads, headDim, elementBytes);
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a cache tensor of " + newRows + " rows × " + newCapacity
                    + " positions needs " + bytes + " bytes, over 2 GiB");
        }
        release();
        rowCapacity = newRows;
        capacity = newCapacity;
        for (int t = 0; t < tensors; t++) {
            buffers[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        }
        stash = ByteBuffer.allocateDirect(elementBytes * heads * capacity * headDim).order(ByteOrder.nativeOrder());
        lengths = new int[0];
        writes = new long[0][];
    }

    /** Bytes of one cache tensor of {@code rows × positions}: the deployment sizes direct memory by this. */
    static long bytesPerTensor(int rows, int positions, int heads, int headDim, int elementBytes) {
        return (long) elementBytes * rows * heads * positions * headDim;
    }

    /** Frees the buffers now (they are gigabytes for the full model). */
    void release() {
        for (int t = 0; t < tensors; t++) {
            DirectMemory.free(buffers[t]);
            buffers[t] = null;
        }
        DirectMemory.free(stash);
        stash = null;
        rowCapacity = 0;
        capacity = 0;
        lengths = new int[0];
        writes = new long[0][];
    }

    int rows() {
        return lengths.length;
    }

    /** The positions dimension of every tensor view ({@code max_sequence} in the graph). */
    int capacity() {
        return capacity;
    }

    int length(int row) {
        return lengths[row];
    }

    /** Starts rows anew with these valid lengths (after a prefill). */
    void start(int[] rowLengths) {
        check(rowLengths.length, rowLengths);
        lengths = rowLengths.clone();
        writes = new long[lengths.length][capacity];
        for (int r = 0; r < lengths.length; r++) {
            for (int p = 0; p < lengths[r]; p++) {
                writes[r][p] = nextWrite++;
            }
        }
    }

    /** Every row gained one position (after a decoding step). */
    void grow() {
        for (int r = 0; r < lengths.length; r++) {
            lengths[r]++;
        }
        check(lengths.length, lengths);
        for (int r = 0; r < lengths.length; r++) {
            writes[r][lengths[r] - 1] = nextWrite++;
        }
    }

    /** Positions copied by {@link #select} so far, counted per tensor and head (tests read it). */
    long positionsCopied() {
        return positionsCopied;
    }

    /** Tensor {@code t} over its first {@code rows} rows, {@code [rows, heads, capacity, headDim]}. */
    ByteBuffer view(int t, int rows) {
        int elements = rows * heads * capacity * headDim;
        return buffers[t].duplicate().position(0).limit(elementBytes * elements).slice().order(ByteOrder.nativeOrder());
    }

    /**
     * New row {@code i} = old row {@code source[i]}, in place, as a "parallel move": a row is
     * overwritten only once no pending copy still reads it, so each moved row costs one copy per
     * head and tensor of the valid positions where it differs from its source; only a cycle of rows
     * (beams swapping places) goes through the stash, whole. Rows that keep their place are not touched.
     */
    void select(int[] source) {
        int n = source.length;
        int[] old = lengths;
        int[] next = new int[n];
        long[][] nextWrites = new long[n][];
        for (int i = 0; i < n; i++) {
            if (source[i] < 0 || source[i] >= old.length) {
                throw new IllegalArgumentException("row " + source[i] + " does not exist (" + old.length + " rows)");
            }
            next[i] = old[source[i]];
            nextWrites[i] = writes[source[i]].clone();
        }
        check(n, next);
        List<Copy> plan = plan(source, old.length);
        int[] start = new int[plan.size()];
        for (int k = 0; k < plan.size(); k++) {
            Copy c = plan.get(k);
            start[k] = c.kind() == Kind.ROW_TO_STASH || c.to() >= old.length ? 0 : shared(c.to(), c.from());
            positionsCopied += (long) tensors * heads * (old[c.from()] - start[k]);
        }
        int headStride = elementBytes * capacity * headDim;
        int rowStride = heads * headStride;
        for (int t = 0; t < tensors; t++) {
            ByteBuffer buf = buffers[t];
            for (int k = 0; k < plan.size(); k++) {
                Copy c = plan.get(k);
                int offset = elementBytes * start[k] * headDim;
                int bytes = elementBytes * old[c.from()] * headDim - offset;
                ByteBuffer from = c.kind() == Kind.STASH_TO_ROW ? stash : buf;
                ByteBuffer to = c.kind() == Kind.ROW_TO_STASH ? stash : buf;
                int fromBase = (c.kind() == Kind.STASH_TO_ROW ? 0 : c.from() * rowStride) + offset;
                int toBase = (c.kind() == Kind.ROW_TO_STASH ? 0 : c.to() * rowStride) + offset;
                for (int h = 0; h < heads; h++) {
                    to.put(toBase + h * headStride, from, fromBase + h * headStride, bytes);
                }
            }
        }
        lengths = next;
        writes = nextWrites;
    }

    /** Leading valid positions that old rows {@code a} and {@code b} hold alike (same write ids). */
    private int shared(int a, int b) {
        int p = Math.min(lengths[a], lengths[b]);
        while (p > 0 && writes[a][p - 1] != writes[b][p - 1]) {
            p--;
        }
        return p;
    }

    enum Kind { ROW_TO_ROW, ROW_TO_STASH, STASH_TO_ROW }

    /** One row copy; a stash copy names the stashed row as both ends (the stash holds one row). */
    record Copy(Kind kind, int from, int to) {
    }

    /** The row copies, in order, that realise {@code source} in place (see {@link #select}). */
    static List<Copy> plan(int[] source, int oldRows) {
        int n = source.length;
        int[] readers = new int[Math.max(n, oldRows)];
        boolean[] pending = new boolean[n];
        int stashed = -1;
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
                    if (s == stashed) {
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
                // every pending row is still read by another pending copy (a cycle): stash one.
                // The stash holds one row: a row stashed earlier has no readers left by now, since
                // its cycle has been broken and resolved in the rounds since.
                int i = 0;
                while (!pending[i]) {
                    i++;
                }
                copies.add(new Copy(Kind.ROW_TO_STASH, i, i));
                stashed = i;
                readers[i] = 0;
            }
        }
        return copies;
    }

    private void check(int rows, int[] rowLengths) {
        int longest = 0;
        for (int l : rowLengths) {
            longest = Math.max(longest, l);
        }
        if (rows > rowCapacity || longest > capacity) {
            throw new IllegalStateException(rows + " rows × " + longest + " positions exceed the reserved "
                    + rowCapacity + " × " + capacity);
        }
    }
}
