package io.dermcap.model.generation;

/**
 * What a search does next: its beam {@code j} of the next step continues its current beam
 * {@code parents[j]} with {@code tokens[j]}. No beams: the search is finished.
 */
record Continuation(int[] parents, int[] tokens) {

    static final Continuation FINISHED = new Continuation(new int[0], new int[0]);

    boolean finished() {
        return parents.length == 0;
    }
}
