package io.dermcap.image;

import java.util.Arrays;

/**
 * open_clip's eval transform as the bundle manifest states it: shorter side to {@code imageSize}
 * with Pillow's bicubic filter, centre crop, scale to [0,1], normalise with {@code mean}/{@code std}.
 */
public record PreprocessingSpec(int imageSize, float[] mean, float[] std) {

    public PreprocessingSpec {
        if (imageSize < 1) {
            throw new IllegalArgumentException("image size must be positive, got " + imageSize);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values each, got " + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0f)) {
                throw new IllegalArgumentException("std values must be positive, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreprocessingSpec p && p.imageSize == imageSize
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * imageSize + Arrays.hashCode(mean)) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "PreprocessingSpec[imageSize=" + imageSize + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
