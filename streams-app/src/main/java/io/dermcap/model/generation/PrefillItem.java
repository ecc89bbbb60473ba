package io.dermcap.model.generation;

/**
 * What one image starts generation from: its prefix embeddings ({@code P × D}, row-major, from
 * the vision encoder) followed by the embeddings of its prompt ids.
 */
public record PrefillItem(float[] prefixEmbeds, int[] promptIds) {
}
