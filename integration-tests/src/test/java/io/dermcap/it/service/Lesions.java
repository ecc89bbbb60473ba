package io.dermcap.it.service;

import io.dermcap.demo.SyntheticLesions;

/** Synthetic lesion-like photos for the tests: the demo's generator, deterministic per seed. */
public final class Lesions {

    private Lesions() {
    }

    /** A PNG or JPEG of varied size and aspect ratio. */
    public static byte[] image(int seed) {
        return SyntheticLesions.generate(seed).bytes();
    }
}
