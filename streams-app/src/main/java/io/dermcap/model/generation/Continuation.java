package io.dermcap.model.generation;

/**
 * What a search does next: row {@code i} of its next step continues its current row
 * {@code sourceRows[i]} with {@code tokens[i]}. No rows: the search is finished.
 */
record Continuation(int[] sourceRows, int[] tokens) {

    static final Continuation FINISHED = new Continuation(new int[0], new int[0]);

    boolean finished() {
        return sourceRows.length == 0;
    }
}
